"""Access tokens: short-lived JWTs signed with the current Ed25519 key, ``kid`` in the header.

Expiry is checked against the injected clock rather than PyJWT's wall clock, so the same rule
holds in tests that move time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from backend.lib.crypto import KeyRing
from backend.lib.errors import Unauthorized

ISSUER = "keng"


def issue_access_token(keys: KeyRing, *, subject: str, kind: str, now: datetime, minutes: int) -> str:
    key = keys.current
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "kind": kind,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def decode_access_token(keys: KeyRing, token: str, *, now: datetime) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("token_invalid", message_key="error.token_invalid") from exc
    key = keys.get(str(header.get("kid", "")))
    if key is None:
        raise Unauthorized(
            "token_invalid", message_key="error.token_invalid", details={"reason": "unknown kid"}
        )
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=["EdDSA"],
            issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("token_invalid", message_key="error.token_invalid") from exc
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthorized("token_expired", message_key="error.token_invalid", details={"reason": "expired"})
    return claims
