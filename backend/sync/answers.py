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
    out = answer.out
    changes = out.changes
    out.changes = []
    head = _encoder.encode(out)
    out.changes = changes
    headers = {"Vary": "Accept-Encoding"}
    if not changes:
        parts: list[bytes | Deflated] = [head]
        size = len(head)
    else:
        raw = b",".join(changes)  # type: ignore[arg-type]
        opening = head[:-1] + b',"changes":['
        parts = [opening, raw, b"]}"]
        size = len(opening) + len(raw) + 2
        if answer.packed is not None:
            parts[1] = answer.packed
    if gzip and size >= MINIMUM_SIZE:
        headers["Content-Encoding"] = "gzip"
        return gzip_of(parts), headers
    if changes:
        return opening + raw + b"]}", headers
    return head, headers
