"""Photos and voice notes attached to feedback: type by content (magic bytes), stored once per sha256.

The file name and the client's declared content type are ignored: a ``.jpg`` carrying a PDF is a
PDF, and it is refused. Files are written under ``<media dir>/feedback/ab/abcdef…`` with a temporary
name and renamed into place, so a crash never leaves half a file under a real hash, and two reports
with the same photo share one file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from backend.lib.errors import DomainError

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
VOICE_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav"})
MAX_PHOTOS = 5
MAX_VOICE = 1


class MediaTooLarge(DomainError):
    status_code = 413
    default_code = "media_too_large"
    default_key = "error.media_too_large"


class UnsupportedMedia(DomainError):
    status_code = 415
    default_code = "unsupported_media_type"
    default_key = "error.media_type"


@dataclass(frozen=True)
class MediaFile:
    """One uploaded file, checked: its kind (photo/voice), sniffed type, size and hash."""

    kind: str
    mime: str
    size: int
    sha256: str
    data: bytes


def _mp4_audio(data: bytes) -> str | None:
    """An ISO-BMFF file (``ftyp``) is accepted as audio only if its tracks are sound, never video."""
    brand = data[8:12]
    handlers = set()
    start = 0
    while (pos := data.find(b"hdlr", start)) != -1:
        handlers.add(data[pos + 12 : pos + 16])
        start = pos + 4
    if b"vide" in handlers:
        return None
    if b"soun" in handlers or brand in {b"M4A ", b"M4B "}:
        return "audio/mp4"
    return None


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` judged by its first bytes, or None when it is not one we accept."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        # The first Ogg page carries the codec's identification header.
        if b"OpusHead" in head or b"\x01vorbis" in head:
            return "audio/ogg"
        return None
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "audio/amr"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF:
        second = head[1]
        if second & 0xF6 == 0xF0:  # ADTS: sync, layer 00
            return "audio/aac"
        if second & 0xE0 == 0xE0 and second & 0x06 == 0x02:  # MPEG audio layer III frame
            return "audio/mpeg"
        return None
    if head[4:8] == b"ftyp":
        return _mp4_audio(data)
    return None


def check(kind: str, data: bytes, max_bytes: int, field: str) -> MediaFile:
    """Size first (cheap), then content type; raise a precise 413 or 415 naming the field."""
    if len(data) > max_bytes:
        raise MediaTooLarge(details={"field": field, "size": len(data), "max_bytes": max_bytes})
    if not data:
        raise UnsupportedMedia(details={"field": field, "reason": "empty file"})
    mime = sniff(data)
    allowed = PHOTO_TYPES if kind == "photo" else VOICE_TYPES
    if mime not in allowed:
        raise UnsupportedMedia(
            details={
                "field": field,
                "detected": mime or "unknown",
                "allowed": sorted(allowed),
            }
        )
    return MediaFile(kind=kind, mime=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def media_path(media_dir: Path, sha256: str) -> Path:
    return media_dir / "feedback" / sha256[:2] / sha256


def store(media_dir: Path, item: MediaFile) -> Path:
    """Write the file once per hash (atomic rename); an existing file with that hash is kept."""
    path = media_path(media_dir, item.sha256)
    if path.exists() and path.stat().st_size == item.size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{item.sha256}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(item.data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path
