"""HTTP endpoints of the blob store: declare, upload chunks at an offset, ask the offset, download
(with ``Range``). The upload follows the tus protocol's ideas (``Upload-Offset``,
``Upload-Checksum``) in a smaller form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Stream

from backend.deps import ActorDep, RuntimeDep
from backend.lib.errors import BadRequest
from backend.lib.http import bearer_first, errors
from backend.sync import blobs
from backend.sync.blobs import BlobInfo
from backend.sync.schemas import BlobIn, BlobOut

READ_BLOCK = 64 * 1024


def blob_out(info: BlobInfo) -> BlobOut:
    return BlobOut(
        sha256=info.sha256,
        size=info.size,
        mime=info.mime,
        offset=info.size if info.complete else info.received,
        complete=info.complete,
        chunk_bytes=blobs.CHUNK_BYTES,
        url=f"/api/v1/sync/blobs/{info.sha256}/content",
    )


def _offset_headers(info: BlobInfo) -> dict[str, str]:
    return {
        "Upload-Offset": str(info.size if info.complete else info.received),
        "Upload-Length": str(info.size),
    }


class BlobController(Controller):
    path = "/api/v1/sync/blobs"
    tags = ["sync"]
    guards = [bearer_first]
    request_max_body_size = blobs.MAX_CHUNK + 64 * 1024

    @post(
        "/",
        operation_id="declareBlob",
        summary="Declare a file by sha256 and size; answers where its upload stands (complete if stored)",
        responses={
            **errors(400, 401, 403, 409, 422),
            200: ResponseSpec(data_container=BlobOut, description="Already declared or stored"),
        },
        status_code=201,
    )
    async def declare(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[BlobIn]) -> Response[BlobOut]:
        info, created = await blobs.begin(rt, actor, data.sha256, data.size, data.mime)
        return Response(blob_out(info), status_code=201 if created else 200, headers=_offset_headers(info))

    @get(
        "/{sha256:str}",
        operation_id="getBlobStatus",
        summary="Where a file's upload stands: the offset to resume from, or complete",
        responses=errors(401, 403, 404, 422),
    )
    async def upload_status(
        self, rt: RuntimeDep, actor: ActorDep, sha256: FromPath[str]
    ) -> Response[BlobOut]:
        info = await blobs.status(rt, actor, sha256)
        return Response(blob_out(info), headers=_offset_headers(info))

    @patch(
        "/{sha256:str}",
        operation_id="uploadBlobChunk",
        summary="Append one chunk at Upload-Offset (raw bytes; optional Upload-Checksum: sha256 <base64>)",
        responses=errors(400, 401, 403, 404, 409, 413, 422),
    )
    async def upload_chunk(
        self,
        request: Request,
        rt: RuntimeDep,
        actor: ActorDep,
        sha256: FromPath[str],
        upload_offset: Annotated[int, HeaderParameter(name="upload-offset", ge=0)],
        upload_checksum: Annotated[
            str | None, HeaderParameter(name="upload-checksum", required=False)
        ] = None,
    ) -> Response[BlobOut]:
        checksum = blobs.parse_checksum(upload_checksum)
        body = await request.body()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            # A cut connection: keep nothing of a partial chunk; the phone resends it whole.
            raise BadRequest("incomplete_chunk", details={"expected": int(declared), "received": len(body)})
        info = await blobs.append(rt, actor, sha256, upload_offset, body, checksum)
        return Response(blob_out(info), headers=_offset_headers(info))

    @get(
        "/{sha256:str}/content",
        operation_id="downloadBlob",
        summary="The file's bytes; honours one Range (206 with Content-Range)",
        responses={
            **errors(401, 403, 404, 409, 416, 422),
            206: ResponseSpec(
                data_container=bytes,
                description="The requested byte range (Content-Range)",
                generate_examples=False,
                media_type="application/octet-stream",
            ),
        },
        media_type="application/octet-stream",
        # Bytes of photos and audio do not shrink, and ranges must stay byte-exact.
        opt={"skip_compression": True},
    )
    async def download(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        sha256: FromPath[str],
        range_header: Annotated[str | None, HeaderParameter(name="range", required=False)] = None,
    ) -> Stream:
        info = await blobs.for_download(rt, actor, sha256)
        span = blobs.parse_range(range_header, info.size) if info.size else None
        start, end = span if span is not None else (0, info.size - 1)
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Length": str(max(end - start + 1, 0)),
            "ETag": f'"{info.sha256}"',
            "Cache-Control": "private, max-age=31536000, immutable",
        }
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"

        async def body() -> AsyncIterator[bytes]:
            position = start
            while position <= end:
                last = min(position + READ_BLOCK - 1, end)
                yield await asyncio.to_thread(blobs.read_range, info.path, position, last)
                position = last + 1

        return Stream(
            body(), status_code=206 if span is not None else 200, headers=headers, media_type=info.mime
        )
