"""Mosquitto's password hash, made when a device password is issued (the only moment the password
is known) so ``keng devices export-mosquitto-auth`` can write a password file Mosquitto accepts.

The format is the one ``mosquitto_passwd`` writes since Mosquitto 2.0:
``$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>`` with a 12-byte salt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ITERATIONS = 101  # mosquitto_passwd's default; the passwords themselves are random 192-bit tokens
SALT_BYTES = 12


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_verify(password: str, encoded: str) -> bool:
    """Check a password against a ``$7$`` hash (what Mosquitto does on CONNECT)."""
    try:
        _, scheme, iterations, salt, digest = encoded.split("$")
        if scheme != "7":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
