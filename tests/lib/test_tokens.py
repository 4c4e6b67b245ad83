"""Access tokens: a token verified once is remembered, but never beyond its key or its expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from backend.lib import tokens
from backend.lib.crypto import KeyRing
from backend.lib.errors import Unauthorized

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _ring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "keys").load_or_create()


def test_a_token_is_verified_once_then_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = _ring(tmp_path)
    token = tokens.issue_access_token(keys, subject="a", kind="staff", now=NOW, minutes=15)
    calls = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = tokens.decode_access_token(keys, token, now=NOW)
    first["sub"] = "changed by a caller"
    again = tokens.decode_access_token(keys, token, now=NOW + timedelta(minutes=1))
    assert again["sub"] == "a"
    assert len(calls) == 1
    # A token differing in one byte of its signature is another token: verified, and refused.
    head, payload, sig = token.split(".")
    with pytest.raises(Unauthorized):
        tokens.decode_access_token(keys, f"{head}.{payload}.{sig[:-4]}AAAA", now=NOW)
    assert len(calls) == 2


def test_a_remembered_token_still_expires(tmp_path: Path) -> None:
    keys = _ring(tmp_path)
    token = tokens.issue_access_token(keys, subject="a", kind="staff", now=NOW, minutes=15)
    tokens.decode_access_token(keys, token, now=NOW)
    with pytest.raises(Unauthorized) as caught:
        tokens.decode_access_token(keys, token, now=NOW + timedelta(minutes=15))
    assert caught.value.code == "token_expired"


def test_a_remembered_token_ends_with_its_key(tmp_path: Path) -> None:
    keys = _ring(tmp_path)
    token = tokens.issue_access_token(keys, subject="a", kind="staff", now=NOW, minutes=15)
    tokens.decode_access_token(keys, token, now=NOW)
    old = keys.current.kid
    keys.rotate()
    assert tokens.decode_access_token(keys, token, now=NOW)["sub"] == "a"
    keys.retire(old)
    with pytest.raises(Unauthorized):
        tokens.decode_access_token(keys, token, now=NOW)


def test_only_so_many_tokens_are_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = _ring(tmp_path)
    monkeypatch.setattr(tokens, "VERIFIED_KEPT", 3)
    issued = [
        tokens.issue_access_token(keys, subject=str(i), kind="staff", now=NOW, minutes=15) for i in range(5)
    ]
    for token in issued:
        tokens.decode_access_token(keys, token, now=NOW)
    assert list(keys.verified) == issued[2:]
