"""Content-addressed files from phones: photos, recorded audio programmes, signatures.

A file is named by its sha256 and stored once, whoever uploads it and however often. Upload is
resumable: the phone declares hash and size, then sends chunks at the server's offset (a chunk may
carry its own sha256, checked before anything is written). A chunk lands with ``pwrite`` at its
offset and is flushed to disk *before* the offset is advanced in the database, so after a crash or a
cut connection the server never claims bytes it does not have; the phone asks for the offset and
resends at most the chunk that was cut. When the last byte arrives the whole file is hashed; a
mismatch discards the upload (the phone starts again) and nothing corrupt is ever served. Only then
is the file moved under its hash and marked complete.

Because the bytes for a given hash are the same for everyone, two phones uploading the same file
at once write identical bytes at identical offsets; the conditional offset update lets one of them
advance and tells the other where to continue."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from backend.core.accounts.permissions import Actor
from backend.lib.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from backend.runtime import Runtime
from backend.sync.tables import SyncBlob

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MIME = re.compile(r"^[a-z]+/[a-zA-Z0-9.+-]+$")
CHUNK_BYTES = 256 * 1024  # what phones are told to send; any chunk up to MAX_CHUNK is accepted
MAX_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class BlobInfo:
    """What other domains need to use a file: where it is, and whether it is whole and verified."""

    sha256: str
    path: Path
    size: int
    mime: str
    complete: bool
    received: int


class BlobCorrupt(DomainError):
    status_code = 422
    default_code = "blob_corrupt"
    default_key = "error.blob_corrupt"


class RangeNotSatisfiable(DomainError):
    status_code = 416
    default_code = "range_not_satisfiable"
    default_key = "error.range"


def final_path(rt: Runtime, sha256: str) -> Path:
    return rt.settings.blobs_dir / sha256[:2] / sha256


def partial_path(rt: Runtime, sha256: str) -> Path:
    return rt.settings.blobs_dir / "partial" / sha256


def _info(rt: Runtime, row: dict[str, object]) -> BlobInfo:
    sha = str(row["sha256"])
    complete = bool(row["complete"])
    return BlobInfo(
        sha256=sha,
        path=final_path(rt, sha) if complete else partial_path(rt, sha),
        size=int(row["size"]),  # type: ignore[call-overload]
        mime=str(row["mime"]),
        complete=complete,
        received=int(row["received"]),  # type: ignore[call-overload]
    )


async def get_blob(rt: Runtime, sha256: str) -> BlobInfo | None:
    """The file with this hash, or None. Use it only when ``complete`` (verified against its hash)."""
    if not SHA256.match(sha256):
        return None
    row = await SyncBlob.select().where(SyncBlob.sha256 == sha256).first()
    return None if row is None else _info(rt, row)


def require_uploader(actor: Actor) -> None:
    """Staff with at least one role grant (officials) upload and read files."""
    if actor.kind != "staff" or not actor.grants:
        raise Forbidden(details={"reason": "staff accounts with a role only"})


def _check_hash(sha256: str) -> None:
    if not SHA256.match(sha256):
        raise ValidationFailed([{"field": "sha256", "reason": "64 lower-case hex digits"}])


async def begin(rt: Runtime, actor: Actor, sha256: str, size: int, mime: str) -> tuple[BlobInfo, bool]:
    """Declare a file; returns (state, created). A file already stored needs no upload at all."""
    require_uploader(actor)
    _check_hash(sha256)
    errors = []
    if size < 0 or size > rt.settings.sync_blob_max_bytes:
        errors.append({"field": "size", "reason": f"0 to {rt.settings.sync_blob_max_bytes} bytes"})
    if not MIME.match(mime) or len(mime) > 100:
        errors.append({"field": "mime", "reason": "a media type such as image/jpeg"})
    if errors:
        raise ValidationFailed(errors)
    existing = await get_blob(rt, sha256)
    if existing is not None:
        if existing.size != size:
            raise Conflict(
                "blob_size_mismatch",
                details={"sha256": sha256, "size": existing.size, "reason": "this hash has another size"},
            )
        return existing, False
    try:
        await SyncBlob.insert(
            SyncBlob(
                sha256=sha256,
                size=size,
                mime=mime,
                received=0,
                complete=False,
                created_by=actor.account_id,
                created_at=rt.clock.now(),
            )
        )
    except Exception:
        # Two phones declared the same file at once; the other insert won.
        existing = await get_blob(rt, sha256)
        if existing is None:
            raise
        return existing, False
    if size == 0:
        return await _finish(rt, sha256), True
    info = await get_blob(rt, sha256)
    assert info is not None
    return info, True


async def status(rt: Runtime, actor: Actor, sha256: str) -> BlobInfo:
    require_uploader(actor)
    _check_hash(sha256)
    info = await get_blob(rt, sha256)
    if info is None:
        raise NotFound("blob", details={"sha256": sha256})
    return info


def parse_checksum(header: str | None) -> bytes | None:
    """``Upload-Checksum: sha256 <base64 digest>`` (as in the tus protocol), optional."""
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if algorithm.lower() != "sha256" or len(digest) != 32:
        raise ValidationFailed([{"field": "Upload-Checksum", "reason": "sha256 <base64 of 32 bytes>"}])
    return digest


async def append(
    rt: Runtime, actor: Actor, sha256: str, offset: int, data: bytes, checksum: bytes | None = None
) -> BlobInfo:
    """Write one chunk at ``offset`` (which must be the server's offset) and return the new state."""
    info = await status(rt, actor, sha256)
    if info.complete:
        return info
    if offset != info.received:
        raise Conflict(
            "upload_offset",
            message_key="error.upload_offset",
            offset=info.received,
            details={"offset": info.received},
        )
    if len(data) > MAX_CHUNK:
        raise ValidationFailed([{"field": "body", "reason": f"at most {MAX_CHUNK} bytes per chunk"}])
    if offset + len(data) > info.size:
        raise ValidationFailed([{"field": "body", "reason": "more bytes than the declared size"}])
    if checksum is not None and hashlib.sha256(data).digest() != checksum:
        raise BlobCorrupt(details={"chunk_offset": offset, "reason": "chunk checksum mismatch"})
    if data:
        await asyncio.to_thread(_pwrite, partial_path(rt, sha256), offset, data)
        advanced = await (
            SyncBlob.update({SyncBlob.received: offset + len(data)})
            .where((SyncBlob.sha256 == sha256) & (SyncBlob.received == offset) & (SyncBlob.complete == False))  # noqa: E712
            .returning(SyncBlob.sha256)
        )
        if not advanced:
            current = await status(rt, actor, sha256)
            if current.complete:
                return current
            raise Conflict(
                "upload_offset",
                message_key="error.upload_offset",
                offset=current.received,
                details={"offset": current.received},
            )
    if offset + len(data) == info.size:
        return await _finish(rt, sha256)
    return await status(rt, actor, sha256)


def _pwrite(path: Path, offset: int, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def _verify_and_move(partial: Path, final: Path, size: int, sha256: str) -> bool:
    """Hash the first ``size`` bytes; move the file under its hash if they match, else drop it."""
    if final.exists() and not partial.exists():
        return _digest(final, size) == sha256  # a crash after the move, before the database knew
    if not partial.exists():
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.touch()
    with partial.open("r+b") as handle:
        handle.truncate(size)
    if _digest(partial, size) != sha256:
        partial.unlink(missing_ok=True)
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    partial.replace(final)  # atomic within one file system: a reader sees all or nothing
    with contextlib.suppress(OSError):
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return True


def _digest(path: Path, size: int) -> str:
    h = hashlib.sha256()
    remaining = size
    with path.open("rb") as handle:
        while remaining > 0:
            block = handle.read(min(1024 * 1024, remaining))
            if not block:
                break
            h.update(block)
            remaining -= len(block)
    return h.hexdigest()


async def _finish(rt: Runtime, sha256: str) -> BlobInfo:
    row = await SyncBlob.select().where(SyncBlob.sha256 == sha256).first()
    assert row is not None
    ok = await asyncio.to_thread(
        _verify_and_move, partial_path(rt, sha256), final_path(rt, sha256), int(row["size"]), sha256
    )
    if not ok:
        await SyncBlob.update({SyncBlob.received: 0}).where(
            (SyncBlob.sha256 == sha256) & (SyncBlob.complete == False)  # noqa: E712
        )
        raise BlobCorrupt(details={"sha256": sha256, "offset": 0})
    await SyncBlob.update({SyncBlob.complete: True, SyncBlob.completed_at: rt.clock.now()}).where(
        SyncBlob.sha256 == sha256
    )
    info = await get_blob(rt, sha256)
    assert info is not None
    return info


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` range → inclusive (start, end); None = whole."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise RangeNotSatisfiable(details={"size": size}, headers={"Content-Range": f"bytes */{size}"})
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                raise ValueError
            start, end = max(size - length, 0), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError as exc:
        raise RangeNotSatisfiable(details={"size": size}) from exc
    end = min(end, size - 1)
    if start < 0 or start > end or start >= size:
        raise RangeNotSatisfiable(details={"size": size}, headers={"Content-Range": f"bytes */{size}"})
    return start, end


async def for_download(rt: Runtime, actor: Actor, sha256: str) -> BlobInfo:
    info = await status(rt, actor, sha256)
    if not info.complete:
        raise Conflict("blob_pending", message_key="error.blob_pending", details={"offset": info.received})
    return info


def read_range(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start + 1)
