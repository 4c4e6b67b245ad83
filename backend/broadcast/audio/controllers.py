"""Media files devices download, by sha256 (the manifest names the hash and size to check)."""

from __future__ import annotations

import re

from litestar import Controller, Response, get
from litestar.params import FromPath

from backend.broadcast.audio import media
from backend.deps import RuntimeDep
from backend.lib.errors import NotFound
from backend.lib.http import errors

SERVED_KINDS = ("programme", "image")
SHA = re.compile(r"^[0-9a-f]{64}$")


class MediaController(Controller):
    path = "/api/v1/broadcast/media"
    tags = ["broadcast"]
    security = [{}]

    @get(
        "/{sha256:str}",
        operation_id="getBroadcastMedia",
        summary="A programme MP3 (or slide image) by its sha256; immutable",
        media_type="application/octet-stream",
        responses=errors(404),
    )
    async def media_file(self, rt: RuntimeDep, sha256: FromPath[str]) -> Response[bytes]:
        ref = await media.get(rt, sha256) if SHA.match(sha256) else None
        if ref is None or ref.kind not in SERVED_KINDS:
            raise NotFound("media", details={"sha256": sha256})
        data = await media.read(rt, ref)
        return Response(
            data,
            media_type=ref.mime,
            headers={"ETag": f'"{ref.sha256}"', "Cache-Control": "public, max-age=31536000, immutable"},
        )
