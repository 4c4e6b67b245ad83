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
    """CRC-32 of A + B from CRC-32(A), CRC-32(B) and len(B), as zlib's ``crc32_combine`` (which
    Python does not expose): CRC(A) moved past len(B) bytes is CRC(A)·x^(8·len(B)) modulo the
    polynomial — a few dozen multiplications whatever the length, not a pass over len(B) bytes."""
    return _multmodp(_x8nmodp(size2), crc1) ^ crc2


_POLY = 0xEDB88320  # CRC-32's polynomial, bits reflected as zlib has them


def _multmodp(a: int, b: int) -> int:
    """a·b modulo the polynomial; ``a`` is not 0."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial, k = 0..31
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _x8nmodp(n: int) -> int:
    """x^(8n) modulo the polynomial: the shift of a CRC over n bytes."""
    p = 1 << 31  # x^0
    k = 3
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p
