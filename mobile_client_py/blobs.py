"""The phone's blob upload queue: photos, recorded programmes, signatures, sent in resumable chunks.

A file is queued by its sha256 (computed on the phone) and uploaded chunk by chunk at the server's
offset, each chunk with its own checksum. After a cut the phone asks the server where it stands and
continues from there, so a cut costs at most the chunk in flight. The offset reached is kept in the
local store, so a phone killed mid-upload resumes where it was. A record that names the file (a
notice attachment, say) syncs at once; the file follows when there is signal."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mobile_client_py.offline import OfflineOfficial, _retry_after

CHUNK = 256 * 1024


@dataclass
class UploadReport:
    completed: int = 0
    bytes_sent: int = 0
    cuts: int = 0
    corrupt_chunks: int = 0
    restarts: int = 0


def read_chunk(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


class BlobQueue:
    def __init__(self, official: OfflineOfficial, chunk: int = CHUNK) -> None:
        self.official = official
        self.store = official.store
        self.chunk = chunk

    def add(self, path: Path, mime: str) -> str:
        sha256, size = file_digest(path)
        with self.store.transaction():
            self.store.db.execute(
                "INSERT OR IGNORE INTO blobs (sha256, path, size, mime, offset, state) VALUES (?, ?, ?, ?, 0, 'pending')",
                (sha256, str(path), size, mime),
            )
        return sha256

    def pending(self) -> list[dict[str, Any]]:
        return [
            {"sha256": r[0], "path": r[1], "size": r[2], "mime": r[3], "offset": r[4]}
            for r in self.store.db.execute(
                "SELECT sha256, path, size, mime, offset FROM blobs WHERE state = 'pending' ORDER BY sha256"
            )
        ]

    def _keep(self, sha256: str, offset: int, state: str = "pending") -> None:
        with self.store.transaction():
            self.store.db.execute(
                "UPDATE blobs SET offset = ?, state = ? WHERE sha256 = ?", (offset, state, sha256)
            )

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.store.get('access_token')}", **extra}

    async def upload_all(self, max_attempts: int = 200) -> UploadReport:
        report = UploadReport()
        for item in self.pending():
            await self._upload(item, report, max_attempts)
        return report

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.official.http.request(method, path, **kwargs)

    async def _status(self, sha256: str) -> dict[str, Any] | None:
        try:
            response = await self._call("GET", f"/api/v1/sync/blobs/{sha256}", headers=self._headers())
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    async def _upload(self, item: dict[str, Any], report: UploadReport, max_attempts: int) -> None:
        sha256, size = item["sha256"], item["size"]
        declared = None
        attempt = 0
        while declared is None:
            try:
                response = await self._call(
                    "POST",
                    "/api/v1/sync/blobs",
                    json={"sha256": sha256, "size": size, "mime": item["mime"]},
                    headers=self._headers(),
                )
                if response.status_code in (200, 201):
                    declared = response.json()
                    break
                if response.status_code not in (429, 503):
                    raise RuntimeError(f"declaring {sha256}: {response.status_code} {response.text[:200]}")
                await self.official.sleep(self.official.backoff.delay(attempt, _retry_after(response)))
            except httpx.HTTPError:
                await self.official.sleep(self.official.backoff.delay(attempt, None))
            attempt += 1
            if attempt > max_attempts:
                raise RuntimeError(f"cannot declare {sha256}")
        offset = int(declared["offset"])
        complete = bool(declared["complete"])
        chunk = min(self.chunk, int(declared.get("chunk_bytes") or self.chunk))
        path = Path(item["path"])
        for attempt in range(max_attempts):
            if complete:
                break
            data = await asyncio.to_thread(read_chunk, path, offset, chunk)
            checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
            headers = self._headers(
                **{
                    "Upload-Offset": str(offset),
                    "Upload-Checksum": f"sha256 {checksum}",
                    "Content-Type": "application/offset+octet-stream",
                }
            )
            report.bytes_sent += len(data)
            self.official.hook("blob_chunk")
            try:
                response = await self._call(
                    "PATCH", f"/api/v1/sync/blobs/{sha256}", content=data, headers=headers
                )
            except httpx.HTTPError:
                report.cuts += 1
                await self.official.sleep(self.official.backoff.delay(min(attempt, 4), None))
                status = await self._status(sha256)
                if status is not None:
                    offset, complete = int(status["offset"]), bool(status["complete"])
                    self._keep(sha256, offset)
                continue
            body = response.json() if response.content else {}
            if response.status_code == 200:
                offset, complete = int(body["offset"]), bool(body["complete"])
                self._keep(sha256, offset)
                continue
            code = (body.get("error") or {}).get("code")
            details = (body.get("error") or {}).get("details") or {}
            if response.status_code == 409 and code == "upload_offset":
                offset = int(details["offset"])
            elif response.status_code == 422 and code == "blob_corrupt":
                if "chunk_offset" in details:
                    report.corrupt_chunks += 1  # damaged on the way: send the chunk again
                else:
                    report.restarts += 1  # the whole file did not match its hash: start over
                    offset = 0
            elif response.status_code in (400, 429, 503):
                await self.official.sleep(
                    self.official.backoff.delay(min(attempt, 4), _retry_after(response))
                )
                status = await self._status(sha256)
                if status is not None:
                    offset, complete = int(status["offset"]), bool(status["complete"])
            else:
                raise RuntimeError(f"uploading {sha256}: {response.status_code} {response.text[:200]}")
        if not complete:
            raise RuntimeError(f"upload of {sha256} did not finish")
        self._keep(sha256, size, "done")
        report.completed += 1
