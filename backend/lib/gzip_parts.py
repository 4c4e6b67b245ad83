"""Gzip bodies assembled from parts compressed apart, so a part sent to many clients is compressed once.

Each part is a raw deflate stream ended by a full flush: it ends on a byte boundary and refers to
nothing before it, so parts compressed at different times, one after the other, make one valid
deflate stream (the way pigz compresses a file in parallel). The gzip member around them carries the
CRC-32 and length of the whole, worked out from each part's own without reading the parts again."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 6
# gzip, deflate, no flags, no time, no extra flags, unknown system (RFC 1952 §2.3).
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_LAST = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty final block
_zeros = bytes(64 * 1024)


@dataclass(frozen=True)
class Deflated:
    data: bytes  # raw deflate, ended by a full flush
    crc: int  # CRC-32 of the uncompressed part
    size: int  # its uncompressed length


def deflate(raw: bytes, level: int = LEVEL) -> Deflated:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Deflated(compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH), zlib.crc32(raw), len(raw))


def gzip_of(parts: Sequence[bytes | Deflated]) -> bytes:
    """One gzip member holding the parts in order. Consecutive plain parts are compressed now, as
    one stream (an answer with nothing kept compresses exactly as it would whole)."""
    crc = 0
    size = 0
    out = [_HEADER]
    run: zlib._Compress | None = None
    for part in parts:
        if isinstance(part, bytes):
            if run is None:
                run = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
            out.append(run.compress(part))
            crc = zlib.crc32(part, crc)
            size += len(part)
            continue
        if run is not None:
            out.append(run.flush(zlib.Z_FULL_FLUSH))
            run = None
        crc = _combine(crc, part.crc, part.size)
        size += part.size
        out.append(part.data)
    out.append(run.flush(zlib.Z_FINISH) if run is not None else _LAST)
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


def _combine(crc1: int, crc2: int, size2: int) -> int:
    """CRC-32 of A + B from CRC-32(A), CRC-32(B) and len(B). CRC-32 is affine in its input:
    running it over len(B) zero bytes from CRC-32(A) and from 0 differs by what A contributes."""
    global _zeros
    if not size2:
        return crc1
    if len(_zeros) < size2:
        _zeros = bytes(max(size2, 2 * len(_zeros)))
    zeros = memoryview(_zeros)[:size2]
    return zlib.crc32(zeros, crc1) ^ zlib.crc32(zeros, 0) ^ crc2
