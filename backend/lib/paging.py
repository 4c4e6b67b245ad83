"""Opaque keyset cursors: stable under inserts, cheap at any depth (no OFFSET)."""

from __future__ import annotations

import base64
import json
from typing import Any

from backend.lib.errors import BadRequest


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise BadRequest(
            "bad_cursor", details={"field": "cursor", "reason": "not a cursor from this API"}
        ) from exc
    if not isinstance(value, dict):
        raise BadRequest("bad_cursor", details={"field": "cursor", "reason": "not a cursor from this API"})
    return value
