"""Key rings and password hashing.

A key ring is a folder of Ed25519 private keys named by key id plus a ``current`` pointer. Signing
uses the current key; verification accepts any key still in the ring, so keys rotate without
logging anybody out or invalidating manifests already on devices.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


class KeyRing:
    """Ed25519 keys kept as PEM files (mode 0600) in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys: dict[str, SigningKey] = {}
        self._current: str | None = None
        # Access tokens whose signature one of these keys has verified (see backend.lib.tokens).
        self.verified: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()

    def load_or_create(self) -> KeyRing:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._keys = {}
        for pem in sorted(self.folder.glob("*.pem")):
            private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                continue
            key = SigningKey(kid=key_id(private.public_key()), private_key=private)
            self._keys[key.kid] = key
        pointer = self.folder / "current"
        current = pointer.read_text().strip() if pointer.exists() else None
        if current not in self._keys:
            current = self.rotate().kid if not self._keys else sorted(self._keys)[0]
            pointer.write_text(current)
        self._current = current
        return self

    def rotate(self) -> SigningKey:
        """Make a new key the current one; older keys stay for verification."""
        private = Ed25519PrivateKey.generate()
        key = SigningKey(kid=key_id(private.public_key()), private_key=private)
        path = self.folder / f"{key.kid}.pem"
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        (self.folder / "current").write_text(key.kid)
        self._keys[key.kid] = key
        self._current = key.kid
        return key

    def retire(self, kid: str) -> None:
        if kid == self._current:
            raise ValueError("cannot retire the current key; rotate first")
        self._keys.pop(kid, None)
        (self.folder / f"{kid}.pem").unlink(missing_ok=True)

    @property
    def current(self) -> SigningKey:
        assert self._current is not None, "key ring not loaded"
        return self._keys[self._current]

    def get(self, kid: str) -> SigningKey | None:
        return self._keys.get(kid)

    @property
    def keys(self) -> list[SigningKey]:
        return list(self._keys.values())


# Password hashing: scrypt with per-password salt, parameters stored with the hash so they can grow.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = Scrypt(salt=salt, length=_SCRYPT_LEN, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(
        password.encode()
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = _unb64(digest)
    actual = Scrypt(salt=_unb64(salt), length=len(expected), n=int(n), r=int(r), p=int(p)).derive(
        password.encode()
    )
    return hmac.compare_digest(actual, expected)


def token_digest(token: str) -> str:
    """Refresh tokens are stored only as digests, so a database leak does not leak sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# A hash of a password nobody has, so a login for an unknown user costs the same time as a real one.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


# Signed envelopes: ``{"schema": 1, "alg": "Ed25519", "kid", "payload": b64url(bytes), "sig":
# b64url(Ed25519 over the payload bytes)}`` — the form of device manifests and upstream reports.


def b64url(data: bytes) -> str:
    return _b64(data)


def b64url_decode(text: str) -> bytes:
    return _unb64(text)


def public_key_b64(key: SigningKey) -> str:
    """The raw 32-byte public key, base64url: what a verifier registers."""
    return _b64(key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def sign_envelope(key: SigningKey, payload: bytes) -> bytes:
    body = {
        "schema": 1,
        "alg": "Ed25519",
        "kid": key.kid,
        "payload": _b64(payload),
        "sig": _b64(key.private_key.sign(payload)),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def verify_envelope(public_key_b64url: str, payload_b64: str, sig_b64: str) -> bytes | None:
    """The payload bytes if the signature is the key's over them, else None."""
    try:
        public = Ed25519PublicKey.from_public_bytes(_unb64(public_key_b64url))
        payload = _unb64(payload_b64)
        public.verify(_unb64(sig_b64), payload)
    except (ValueError, InvalidSignature):
        return None
    return payload
