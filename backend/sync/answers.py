"""How a checkpoint goes on the wire.

The answer is JSON with its changes last, compressed from parts (:mod:`backend.lib.gzip_parts`):
the changes of a shared snapshot page come compressed once for all the phones of a scope, and
only the few bytes around them — this phone's sequence, acknowledgements, cursor — are compressed
per request. The bytes a phone receives are the same as if the whole answer were compressed at
once; it decodes them with any gzip decoder."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from backend.lib.gzip_parts import Deflated, gzip_of
from backend.sync.schemas import SyncOut

MINIMUM_SIZE = 500  # smaller answers go uncompressed, as every other answer of the API
_encoder = msgspec.json.Encoder()


@dataclass
class Answer:
    out: SyncOut
    packed: Deflated | None = None  # ``out.changes``, comma-joined and compressed, if kept so


def encode(answer: Answer, gzip: bool) -> tuple[bytes, dict[str, str]]:
    """The body and its content headers; compressed if the phone takes gzip."""
    changes = answer.out.changes
    head = _encoder.encode(msgspec.structs.replace(answer.out, changes=[]))  # changes=[] is left out
    parts: list[bytes | Deflated] = [head]
    if changes:
        # A kept page comes compressed; its uncompressed length is that of the joined changes.
        middle = answer.packed if answer.packed is not None else b",".join(changes)  # type: ignore[arg-type]
        parts = [head[:-1] + b',"changes":[', middle, b"]}"]
    headers = {"Vary": "Accept-Encoding"}
    if gzip and sum(p.size if isinstance(p, Deflated) else len(p) for p in parts) >= MINIMUM_SIZE:
        headers["Content-Encoding"] = "gzip"
        return gzip_of(parts), headers
    plain = (p if isinstance(p, bytes) else b",".join(changes) for p in parts)  # type: ignore[arg-type]
    return b"".join(plain), headers
