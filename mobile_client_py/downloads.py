"""Resumable downloads from the blob store: training documents, slides, audio and video.

A file named by its sha256 is fetched piece by piece with ``Range`` into ``<folder>/partial/<sha256>``;
each piece is written and flushed before the next is asked for, so the partial file's length is
always what the phone really holds. After a cut — no answer, an answer cut short, a phone killed —
the next request starts at that length: a cut costs at most the piece in flight. When every byte is
there the file is hashed; a mismatch throws the partial file away and starts again, so a file the
phone keeps is always exactly the one the server named. Only then is it moved to ``<folder>/<sha256>``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from mobile_client_py.offline import OfflineOfficial, _retry_after

PIECE = 256 * 1024
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class DownloadFailed(Exception):
    """The server refused the file for good (not found, not allowed, not uploaded yet)."""


@dataclass
class DownloadReport:
    completed: int = 0
    requests: int = 0
    bytes_received: int = 0
    cuts: int = 0
    restarts: int = 0
    resumed_from: int = 0  # the offset the first request started at (> 0: an earlier run's bytes kept)


def _append(path: Path, offset: int, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("r+b" if path.exists() else "wb") as handle:
        handle.truncate(offset)  # bytes past the offset were never confirmed: drop them
        handle.seek(offset)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


class BlobDownloads:
    def __init__(self, official: OfflineOfficial, folder: Path, piece: int = PIECE) -> None:
        self.official = official
        self.folder = Path(folder)
        self.piece = piece

    def path(self, sha256: str) -> Path:
        return self.folder / sha256

    def partial(self, sha256: str) -> Path:
        return self.folder / "partial" / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def held(self, sha256: str) -> int:
        """Bytes of an unfinished download already on the phone."""
        part = self.partial(sha256)
        return part.stat().st_size if part.exists() else 0

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.official.store.get('access_token')}", **extra}

    async def fetch(
        self, sha256: str, size: int, url: str | None = None, max_attempts: int = 500
    ) -> DownloadReport:
        report = DownloadReport()
        url = url or f"/api/v1/sync/blobs/{sha256}/content"
        final, part = self.path(sha256), self.partial(sha256)
        if final.exists():
            report.completed = 1
            return report
        offset = self.held(sha256)
        if offset > size:
            part.unlink()
            offset = 0
        report.resumed_from = offset
        refreshed = False
        for attempt in range(max_attempts):
            if offset == size:
                if size == 0:
                    _append(part, 0, b"")
                if await asyncio.to_thread(_digest, part) == sha256:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    part.replace(final)
                    report.completed = 1
                    return report
                part.unlink()  # not the file the server named: start again
                report.restarts += 1
                offset = 0
                continue
            end = min(offset + self.piece, size) - 1
            report.requests += 1
            self.official.hook("blob_download")
            try:
                response = await self.official.http.get(
                    url, headers=self._headers(Range=f"bytes={offset}-{end}")
                )
            except httpx.HTTPError:
                report.cuts += 1
                await self.official.sleep(self.official.backoff.delay(min(attempt, 4), None))
                continue
            if response.status_code == 401 and not refreshed and await self.official._refresh():
                refreshed = True
                continue
            if response.status_code in (429, 500, 502, 503, 504):
                await self.official.sleep(
                    self.official.backoff.delay(min(attempt, 4), _retry_after(response))
                )
                continue
            if response.status_code == 416:
                part.unlink(missing_ok=True)
                offset = 0
                continue
            if response.status_code == 200:
                start, wanted = 0, size  # the server sent the whole file
            elif response.status_code == 206:
                match = CONTENT_RANGE.match(response.headers.get("content-range", ""))
                if match is None or int(match.group(1)) != offset:
                    report.cuts += 1
                    continue
                start, wanted = offset, int(match.group(2)) - offset + 1
            else:
                raise DownloadFailed(f"{sha256}: {response.status_code} {response.text[:200]}")
            data = response.content[:wanted]
            if len(data) < wanted:
                report.cuts += 1  # the answer was cut short: keep what came, ask for the rest
            await asyncio.to_thread(_append, part, start, data)
            report.bytes_received += len(data)
            offset = start + len(data)
        raise DownloadFailed(f"download of {sha256} did not finish")
