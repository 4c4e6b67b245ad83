"""Access tokens: short-lived JWTs signed with the current Ed25519 key, ``kid`` in the header.

Expiry is checked against the injected clock rather than PyJWT's wall clock, so the same rule
holds in tests that move time.

A phone sends the same token with every request for its lifetime (minutes), and checking the
signature and claims again each time cost a fair share of a small request (a sync with nothing to
do, a hundred changes). Tokens already verified are remembered per key ring: a remembered token
skips only the signature and claim checks; its key must still be in the ring (a retired key ends
it at once) and its expiry is checked on every use."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from backend.lib.crypto import KeyRing
from backend.lib.errors import Unauthorized
from backend.lib.recent import keep, recall

ISSUER = "keng"
VERIFIED_KEPT = 4096  # tokens remembered per key ring (the phones and staff active at a time)


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
    known = recall(keys.verified, token)
    if known is not None and keys.get(known[0]) is not None:
        return _unexpired(known[1], now)
    kid, claims = _verify(keys, token)
    keep(keys.verified, token, (kid, claims), VERIFIED_KEPT)
    return _unexpired(claims, now)


def _verify(keys: KeyRing, token: str) -> tuple[str, dict[str, Any]]:
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
    return key.kid, claims


def _unexpired(claims: dict[str, Any], now: datetime) -> dict[str, Any]:
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthorized("token_expired", message_key="error.token_invalid", details={"reason": "expired"})
    return dict(claims)  # the remembered claims stay as verified whatever a caller does
