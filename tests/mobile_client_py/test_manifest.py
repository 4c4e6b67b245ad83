"""Manifest verification as devices do it: signature by key id, version, validity, media hashes.

Manifests are signed with the server's own signing code and a key ring on disk, then tampered with
the way a compromised broker or network could."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.broadcast.manifests.signing import public_keys, sign
from backend.lib.crypto import KeyRing
from mobile_client_py.manifest import ManifestRejected, ManifestVerifier, keys_from_response, verify_media

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MEDIA = b"ID3 fake mp3 bytes \x00\x01\x02" * 100


def payload(version: int = 1, **over):
    body = {
        "schema": 1,
        "manifest_id": "5b0c6f1e-0000-4000-8000-000000000001",
        "kind": "audio",
        "station_id": "s1",
        "group_id": "g1",
        "area_codes": [],
        "version": version,
        "issued_at": "2026-03-02T00:00:00Z",
        "valid_from": "2026-03-02T00:00:00Z",
        "valid_until": "2026-03-09T00:00:00Z",
        "entries": [{"id": "x/0", "kind": "session", "media_id": "m1"}],
        "media": [
            {
                "id": "m1",
                "url": "http://h/api/v1/broadcast/media/abc",
                "sha256": hashlib.sha256(MEDIA).hexdigest(),
                "size": len(MEDIA),
                "mime": "audio/mpeg",
                "duration_ms": 1000,
            }
        ],
        "notices": [{"id": "n1", "thread_id": "t1", "version": 1}],
    }
    body.update(over)
    return body


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "province").load_or_create()


@pytest.fixture
def verifier(ring: KeyRing) -> ManifestVerifier:
    return ManifestVerifier(keys_from_response(public_keys(ring)))


def reason(verifier: ManifestVerifier, envelope: bytes, now: datetime = NOW) -> str:
    with pytest.raises(ManifestRejected) as info:
        verifier.verify(envelope, now)
    return info.value.reason


def test_a_signed_manifest_verifies_and_its_media_checks(ring, verifier):
    manifest = verifier.verify(sign(ring.current, payload()), NOW)
    assert manifest.version == 1 and manifest.kind == "audio" and manifest.kid == ring.current.kid
    assert manifest.scope == "group:g1:audio"
    verify_media(manifest.media_by_id("m1"), MEDIA)


def test_tampered_payload_signature_and_key_are_refused(ring, verifier, tmp_path):
    envelope = json.loads(sign(ring.current, payload()))
    # A payload changed after signing (here: the media hash swapped for an attacker's file).
    forged = payload(media=[{**payload()["media"][0], "sha256": "0" * 64}])
    raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    assert reason(verifier, json.dumps({**envelope, "payload": raw}).encode()) == "bad_signature"
    # A signature bit flipped.
    sig = bytearray(base64.urlsafe_b64decode(envelope["sig"] + "=="))
    sig[0] ^= 1
    bad_sig = base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("=")
    assert reason(verifier, json.dumps({**envelope, "sig": bad_sig}).encode()) == "bad_signature"
    # Signed by a key the province never published, under its own kid or claiming the real one.
    other = KeyRing(tmp_path / "attacker").load_or_create()
    assert reason(verifier, sign(other.current, payload())) == "unknown_key"
    stolen_kid = json.loads(sign(other.current, payload()))
    stolen_kid["kid"] = ring.current.kid
    assert reason(verifier, json.dumps(stolen_kid).encode()) == "bad_signature"
    # Not an envelope at all, or another algorithm.
    assert reason(verifier, b"not json") == "malformed"
    assert reason(verifier, json.dumps({**envelope, "alg": "none"}).encode()) == "unsupported"


def test_versions_never_go_back_and_the_window_is_enforced(ring, verifier):
    verifier.verify(sign(ring.current, payload(version=3)), NOW)
    assert reason(verifier, sign(ring.current, payload(version=2))) == "stale_version"
    assert verifier.verify(sign(ring.current, payload(version=3)), NOW).version == 3
    assert verifier.verify(sign(ring.current, payload(version=4)), NOW).version == 4
    # Another group's (or an emergency thread's) versions are counted apart.
    assert verifier.verify(sign(ring.current, payload(version=1, group_id="g2")), NOW).version == 1
    assert (
        reason(verifier, sign(ring.current, payload(version=9)), NOW - timedelta(days=1)) == "not_yet_valid"
    )
    assert reason(verifier, sign(ring.current, payload(version=9)), NOW + timedelta(days=7)) == "expired"


def test_tampered_media_is_refused(ring, verifier):
    item = verifier.verify(sign(ring.current, payload()), NOW).media_by_id("m1")
    with pytest.raises(ManifestRejected) as info:
        verify_media(item, MEDIA[:-1] + b"\xff")
    assert info.value.reason == "media_hash"
    with pytest.raises(ManifestRejected) as info:
        verify_media(item, MEDIA + b"\x00")
    assert info.value.reason == "media_size"


def test_keys_keep_verifying_across_a_rotation(ring):
    old_envelope = sign(ring.current, payload(version=1))
    ring.rotate()
    keys = public_keys(ring)
    assert len(keys) == 2 and keys[0]["kid"] == ring.current.kid
    verifier = ManifestVerifier(keys_from_response(keys))
    verifier.verify(old_envelope, NOW)
    verifier.verify(sign(ring.current, payload(version=2)), NOW)
    # Once the old key is retired, what it signed is refused.
    old_kid = keys[1]["kid"]
    ring.retire(old_kid)
    fresh = ManifestVerifier(keys_from_response(public_keys(ring)))
    with pytest.raises(ManifestRejected) as info:
        fresh.verify(old_envelope, NOW)
    assert info.value.reason == "unknown_key"


def test_malformed_payload_fields_are_refused(ring, verifier):
    assert reason(verifier, sign(ring.current, payload(version=0))) == "malformed"
    assert reason(verifier, sign(ring.current, payload(kind="video"))) == "malformed"
    assert reason(verifier, sign(ring.current, payload(valid_until="tomorrow"))) == "malformed"
    assert reason(verifier, sign(ring.current, payload(media=[{"id": "m1"}]))) == "malformed"
