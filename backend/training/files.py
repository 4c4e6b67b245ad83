"""What a training file really is, judged by its bytes in the blob store (never by its name or the
media type the uploader declared), and whether it fits the material's kind.

PDF by its header; slide decks as PDF, PPTX or ODP (ZIP archives told apart by their entries); audio
through the same sniffing as citizens' voice notes; MP4 by the handlers of its ``moov`` box (a video
track makes it a video, sound only an audio file — ``moov`` may sit at the end of the file, so the
top-level boxes are walked rather than the head read); WebM by its EBML header and codec ids."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from backend.citizen.feedback.media import VOICE_TYPES, sniff
from backend.lib.errors import DomainError

Kind = Literal["document", "slides", "audio", "video"]
KINDS: tuple[Kind, ...] = ("document", "slides", "audio", "video")

PDF = "application/pdf"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODP = "application/vnd.oasis.opendocument.presentation"
AUDIO_TYPES = frozenset(VOICE_TYPES - {"audio/amr"})
ACCEPTED: dict[str, frozenset[str]] = {
    "document": frozenset({PDF}),
    "slides": frozenset({PDF, PPTX, ODP}),
    "audio": AUDIO_TYPES | {"audio/webm"},
    "video": frozenset({"video/mp4", "video/webm"}),
}
HEAD = 4096
MAX_MOOV = 64 * 1024 * 1024


class TrainingFileTooLarge(DomainError):
    status_code = 413
    default_code = "file_too_large"
    default_key = "error.training_file_too_large"


class TrainingFileType(DomainError):
    status_code = 415
    default_code = "unsupported_media_type"
    default_key = "error.training_file_type"


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODP.encode():
                return ODP
            if "ppt/presentation.xml" in names and "[Content_Types].xml" in names:
                return PPTX
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def _boxes(path: Path) -> bytes | None:
    """The ``moov`` box of an ISO-BMFF file (MP4, M4A), walking the top-level boxes."""
    size_left = path.stat().st_size
    with path.open("rb") as handle:
        position = 0
        while position + 8 <= size_left:
            handle.seek(position)
            header = handle.read(16)
            size, kind = int.from_bytes(header[:4]), header[4:8]
            offset = 8
            if size == 1:
                size, offset = int.from_bytes(header[8:16]), 16
            elif size == 0:
                size = size_left - position
            if size < offset:
                return None
            if kind == b"moov":
                if size > MAX_MOOV:
                    return None
                handle.seek(position + offset)
                return handle.read(size - offset)
            position += size
    return None


def _iso_type(path: Path) -> str | None:
    moov = _boxes(path)
    if moov is None:
        return None
    handlers = set()
    start = 0
    while (pos := moov.find(b"hdlr", start)) != -1:
        handlers.add(moov[pos + 12 : pos + 16])
        start = pos + 4
    if b"vide" in handlers:
        return "video/mp4"
    if b"soun" in handlers:
        return "audio/mp4"
    return None


def _webm_type(head: bytes) -> str | None:
    if b"webm" not in head:
        return None
    if b"V_VP8" in head or b"V_VP9" in head or b"V_AV1" in head:
        return "video/webm"
    if b"A_OPUS" in head or b"A_VORBIS" in head:
        return "audio/webm"
    return None


def detect(path: Path) -> str | None:
    """The media type of the file at ``path``, or None when it is none we accept."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _webm_type(head)
    if head[4:8] == b"ftyp":
        return _iso_type(path)
    mime = sniff(head)
    return mime if mime in AUDIO_TYPES else None


def check(path: Path, size: int, kind: Kind, max_bytes: int) -> str:
    """Size first (cheap), then content; the accepted media type, or a 413 / 415 naming the field."""
    if size > max_bytes:
        raise TrainingFileTooLarge(
            details={"field": "sha256", "size": size, "max_bytes": max_bytes},
            max_mb=max(1, max_bytes // (1024 * 1024)),
        )
    mime = detect(path) if size else None
    if mime not in ACCEPTED[kind]:
        raise TrainingFileType(
            details={
                "field": "sha256",
                "kind": kind,
                "detected": mime or "unknown",
                "allowed": sorted(ACCEPTED[kind]),
            },
            kind=f"training_kind.{kind}",  # a noun of the i18n catalogue, said in the reader's language
        )
    return mime
