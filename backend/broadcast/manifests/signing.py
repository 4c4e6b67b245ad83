"""The signed envelope devices verify (``mobile_client_py/manifest.py``).

The payload is serialised once to bytes and those exact bytes are signed and carried base64url
inside the envelope, so no JSON canonicalisation is needed on either side: a verifier checks the
signature over the bytes it decodes, then parses them."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization

from backend.lib.crypto import KeyRing, SigningKey

SCHEMA = 1
ALG = "Ed25519"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(key: SigningKey, payload: dict[str, Any]) -> bytes:
    """The envelope bytes for ``payload``, signed with ``key``."""
    payload_bytes = msgspec.json.encode(payload)
    signature = key.private_key.sign(payload_bytes)
    envelope = {
        "schema": SCHEMA,
        "alg": ALG,
        "kid": key.kid,
        "payload": b64url(payload_bytes),
        "sig": b64url(signature),
    }
    return msgspec.json.encode(envelope)


def public_keys(ring: KeyRing) -> list[dict[str, str]]:
    """Every key still in the ring, current first: devices keep verifying manifests signed before a
    rotation until the old key is retired."""
    keys = sorted(ring.keys, key=lambda k: k.kid != ring.current.kid)
    return [
        {
            "kid": k.kid,
            "alg": ALG,
            "public_key": b64url(
                k.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            ),
        }
        for k in keys
    ]
