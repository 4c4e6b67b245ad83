"""Verification of the province's signed manifests, as a loudspeaker, an e-board or a receiver does it.

A manifest arrives as an envelope ``{"schema": 1, "alg": "Ed25519", "kid", "payload", "sig"}`` whose
``payload`` is the base64url of the JSON payload bytes and ``sig`` the Ed25519 signature over exactly
those bytes. A device accepts a manifest only when:

- the key id names a province key it knows (keys come from ``GET /api/v1/keys/province``; several
  are listed during a rotation) and the signature verifies with it;
- its ``version`` is not lower than the one it holds for the same scope (a group's audio or e-board
  manifest, or an emergency thread), so an old manifest replayed by a broker is refused;
- ``now`` lies in its validity window (``valid_from`` ≤ now < ``valid_until``);
- every media file it downloads has the sha256 and size the manifest names.

Everything else is refused with :class:`ManifestRejected`, whose ``reason`` is what a device reports
in its ``manifest verification failure`` event. Nothing here needs the server: only ``cryptography``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SCHEMA = 1
ALG = "Ed25519"
KINDS = ("audio", "eboard", "emergency")


class ManifestRejected(Exception):
    """The manifest (or a media file) must not be used; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise ManifestRejected("malformed", "base64url text expected")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ManifestRejected("malformed", "not base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def keys_from_response(items: Iterable[Mapping[str, Any]]) -> dict[str, Ed25519PublicKey]:
    """Province keys by key id, from the JSON list ``GET /api/v1/keys/province`` answers."""
    keys: dict[str, Ed25519PublicKey] = {}
    for item in items:
        if item.get("alg") != ALG:
            continue
        raw = b64url_decode(str(item["public_key"]))
        if len(raw) != 32:
            raise ManifestRejected("bad_key", f"key {item.get('kid')} is not 32 bytes")
        keys[str(item["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


@dataclass(frozen=True)
class MediaItem:
    id: str
    url: str
    sha256: str
    size: int
    mime: str
    duration_ms: int | None


@dataclass(frozen=True)
class Manifest:
    """A verified manifest. ``payload`` is the whole decoded payload for fields not modelled here."""

    manifest_id: str
    kind: str
    version: int
    station_id: str | None
    group_id: str | None
    area_codes: list[str]
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    entries: list[dict[str, Any]]
    media: list[MediaItem]
    notices: list[dict[str, Any]]
    kid: str
    payload: dict[str, Any] = field(repr=False)

    @property
    def scope(self) -> str:
        """What ``version`` counts in: a group's manifest of one kind, or an emergency thread."""
        if self.kind == "emergency":
            return f"emergency:{self.payload.get('thread_id')}"
        return f"group:{self.group_id}:{self.kind}"

    @property
    def ended(self) -> bool:
        return bool(self.payload.get("ended"))

    def media_by_id(self, media_id: str) -> MediaItem:
        for item in self.media:
            if item.id == media_id:
                return item
        raise ManifestRejected("unknown_media", media_id)


def _time(payload: Mapping[str, Any], name: str) -> datetime:
    value = payload.get(name)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ManifestRejected("malformed", f"{name} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise ManifestRejected("malformed", f"{name} has no time zone")
    return moment


def _media(items: Any) -> list[MediaItem]:
    if not isinstance(items, list):
        raise ManifestRejected("malformed", "media must be a list")
    out = []
    for item in items:
        try:
            sha = str(item["sha256"])
            size = int(item["size"])
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha) or size < 0:
                raise ValueError(sha)
            duration = item.get("duration_ms")
            out.append(
                MediaItem(
                    id=str(item["id"]),
                    url=str(item["url"]),
                    sha256=sha,
                    size=size,
                    mime=str(item["mime"]),
                    duration_ms=None if duration is None else int(duration),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestRejected("malformed", "media item without id, url, sha256, size or mime") from exc
    return out


class ManifestVerifier:
    """Holds the province keys and the highest version seen per scope, as a device does."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = dict(keys)
        self.held: dict[str, int] = {}

    def verify(self, envelope: bytes | str, now: datetime, *, remember: bool = True) -> Manifest:
        manifest = self.check_signature(envelope)
        held = self.held.get(manifest.scope)
        if held is not None and manifest.version < held:
            raise ManifestRejected("stale_version", f"version {manifest.version} < held {held}")
        if now < manifest.valid_from:
            raise ManifestRejected("not_yet_valid", manifest.valid_from.isoformat())
        if now >= manifest.valid_until:
            raise ManifestRejected("expired", manifest.valid_until.isoformat())
        if remember:
            self.held[manifest.scope] = manifest.version
        return manifest

    def check_signature(self, envelope: bytes | str) -> Manifest:
        """Signature and shape only (no version or time checks)."""
        try:
            outer = json.loads(envelope)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestRejected("malformed", "envelope is not JSON") from exc
        if not isinstance(outer, dict):
            raise ManifestRejected("malformed", "envelope is not an object")
        if outer.get("schema") != SCHEMA or outer.get("alg") != ALG:
            raise ManifestRejected("unsupported", f"schema {outer.get('schema')} alg {outer.get('alg')}")
        key = self.keys.get(str(outer.get("kid")))
        if key is None:
            raise ManifestRejected("unknown_key", str(outer.get("kid")))
        payload_bytes = b64url_decode(outer.get("payload", ""))
        try:
            key.verify(b64url_decode(outer.get("sig", "")), payload_bytes)
        except InvalidSignature as exc:
            raise ManifestRejected("bad_signature") from exc
        try:
            payload = json.loads(payload_bytes)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestRejected("malformed", "payload is not JSON") from exc
        return self._manifest(payload, str(outer["kid"]))

    def _manifest(self, payload: Any, kid: str) -> Manifest:
        if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
            raise ManifestRejected("unsupported", "payload schema")
        kind = payload.get("kind")
        if kind not in KINDS:
            raise ManifestRejected("malformed", f"kind {kind!r}")
        version = payload.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ManifestRejected("malformed", "version must be a positive integer")
        entries, notices = payload.get("entries"), payload.get("notices")
        if not isinstance(entries, list) or not isinstance(notices, list):
            raise ManifestRejected("malformed", "entries and notices must be lists")
        return Manifest(
            manifest_id=str(payload.get("manifest_id")),
            kind=kind,
            version=version,
            station_id=payload.get("station_id"),
            group_id=payload.get("group_id"),
            area_codes=list(payload.get("area_codes") or []),
            issued_at=_time(payload, "issued_at"),
            valid_from=_time(payload, "valid_from"),
            valid_until=_time(payload, "valid_until"),
            entries=entries,
            media=_media(payload.get("media")),
            notices=notices,
            kid=kid,
            payload=payload,
        )


def verify_media(item: MediaItem, data: bytes) -> None:
    """Refuse a downloaded file whose size or sha256 differs from the manifest's."""
    if len(data) != item.size:
        raise ManifestRejected("media_size", f"{item.id}: {len(data)} bytes, expected {item.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != item.sha256:
        raise ManifestRejected("media_hash", f"{item.id}: sha256 {digest}")
