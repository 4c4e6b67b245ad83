"""The broadcast media store: files devices download, named by their sha256, under
``<data dir>/media/broadcast/``. A file is written to a temporary name and renamed, so a crash never
leaves a half-written file under a real name; the row is written after the file."""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.broadcast.tables import Media
from backend.runtime import Runtime


@dataclass(frozen=True)
class MediaRef:
    sha256: str
    size: int
    mime: str
    duration_ms: int
    filename: str
    kind: str


def root(rt: Runtime) -> Path:
    return rt.settings.media_dir / "broadcast"


def path_of(rt: Runtime, filename: str) -> Path:
    return root(rt) / filename[:2] / filename


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size == len(data):
        return
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _ref(row: dict[str, Any]) -> MediaRef:
    return MediaRef(
        sha256=row["sha256"],
        size=row["size"],
        mime=row["mime"],
        duration_ms=row["duration_ms"],
        filename=row["filename"],
        kind=row["kind"],
    )


async def put(
    rt: Runtime, data: bytes, *, kind: str, mime: str, ext: str, duration_ms: int, render_key: str = ""
) -> MediaRef:
    sha = hashlib.sha256(data).hexdigest()
    filename = f"{sha}.{ext}"
    await asyncio.to_thread(_write, path_of(rt, filename), data)
    await Media.insert(
        Media(
            sha256=sha,
            render_key=render_key,
            kind=kind,
            mime=mime,
            size=len(data),
            duration_ms=duration_ms,
            filename=filename,
            created_at=rt.clock.now(),
        )
    ).on_conflict(target=Media.sha256, action="DO NOTHING")
    return MediaRef(
        sha256=sha, size=len(data), mime=mime, duration_ms=duration_ms, filename=filename, kind=kind
    )


async def by_render_key(rt: Runtime, key: str) -> MediaRef | None:
    row = await Media.select().where(Media.render_key == key).first()
    if row is None or not path_of(rt, row["filename"]).exists():
        return None
    return _ref(row)


async def get(rt: Runtime, sha256: str) -> MediaRef | None:
    row = await Media.select().where(Media.sha256 == sha256).first()
    return None if row is None else _ref(row)


async def read(rt: Runtime, ref: MediaRef) -> bytes:
    return await asyncio.to_thread(path_of(rt, ref.filename).read_bytes)
