"""The AsyncAPI document describes exactly the topic tree ``topics.py`` builds, with the right
publisher and retain flag, and every example in it validates against its schema."""

from __future__ import annotations

import base64

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.broadcast.manifests.signing import public_keys, sign
from backend.devices.topics import DEVICE_CHANNELS, DEVICE_PUBLISHED, Topics
from backend.lib.crypto import SigningKey, key_id
from mobile_client_py.manifest import ManifestVerifier, keys_from_response
from tests.devices.asyncapi import address_pattern, document, resolve, schema_validator, validator

RETAINED = {"areaEmergency", "groupManifest", "deviceStatus", "deviceDesiredState"}


def built_topics() -> dict[str, str]:
    """Every kind of topic the server builds, by a readable name."""
    topics = Topics("keng/v1")
    built = {
        "area emergency": topics.area_emergency("38001", "t-1"),
        "group audio": topics.group_manifest("g-1", "audio"),
        "group eboard": topics.group_manifest("g-1", "eboard"),
    }
    built.update({f"device {c}": topics.device("d-1", c) for c in DEVICE_CHANNELS})
    return built


def channel_of(topic: str) -> str:
    hits = [
        name
        for name, channel in document()["channels"].items()
        if address_pattern(channel["address"]).match(topic)
    ]
    assert len(hits) == 1, f"{topic} matches channels {hits}"
    return hits[0]


def test_every_topic_the_server_builds_is_one_documented_channel_and_nothing_else_is():
    used = {channel_of(topic) for topic in built_topics().values()}
    assert used == set(document()["channels"])


def test_publisher_and_retain_flag_of_every_channel():
    operations = document()["operations"].values()
    by_channel: dict[str, list[dict]] = {}
    for op in operations:
        by_channel.setdefault(op["channel"]["$ref"].rsplit("/", 1)[1], []).append(op)
    topics = Topics("keng/v1")
    device_sent = {channel_of(topics.device("d-1", c)) for c in DEVICE_PUBLISHED}
    for name in document()["channels"]:
        ops = by_channel[name]
        assert len(ops) == 1, name
        assert ops[0]["action"] == ("receive" if name in device_sent else "send"), name
        assert ops[0]["bindings"]["mqtt"]["retain"] is (name in RETAINED), name
        assert ops[0]["bindings"]["mqtt"]["qos"] == 1


def message_examples() -> list[tuple[str, dict, object]]:
    out = []
    for name, message in document()["components"]["messages"].items():
        for example in message["examples"]:
            out.append((f"{name}/{example['name']}", message["payload"], example["payload"]))
    return out


@pytest.mark.parametrize(("name", "schema", "payload"), message_examples(), ids=lambda v: str(v)[:40])
def test_message_examples_validate(name, schema, payload):
    validator(schema).validate(payload)
    if isinstance(payload, dict) and payload != {} and "alg" not in payload:
        assert payload["schema"] == 1, f"{name} has no schema version"


def test_every_json_message_has_a_schema_version():
    for name, message in document()["components"]["messages"].items():
        schema = resolve(message["payload"])
        if schema.get("type") == "object" or "allOf" in schema:
            assert "schema" in schema.get("required", []), name


def schema_examples() -> list[tuple[str, object]]:
    return [
        (name, example)
        for name, schema in document()["components"]["schemas"].items()
        for example in schema.get("examples", [])
    ]


@pytest.mark.parametrize(("name", "example"), schema_examples(), ids=lambda v: str(v)[:30])
def test_schema_examples_validate(name, example):
    schema_validator(name).validate(example)


def test_signed_manifest_examples_travel_in_a_valid_envelope_the_device_accepts():
    private = Ed25519PrivateKey.generate()
    key = SigningKey(kid=key_id(private.public_key()), private_key=private)

    class Ring:
        keys = [key]
        current = key

    verifier = ManifestVerifier(keys_from_response(public_keys(Ring())))  # type: ignore[arg-type]
    for name in ("EmergencyManifest", "GroupManifest"):
        for example in resolve({"$ref": f"#/components/schemas/{name}"})["examples"]:
            envelope = msgspec.json.decode(sign(key, example))
            schema_validator("ManifestEnvelope").validate(envelope)
            raw = base64.urlsafe_b64decode(envelope["payload"] + "==")
            assert msgspec.json.decode(raw) == example
            manifest = verifier.check_signature(msgspec.json.encode(envelope))
            assert manifest.version == example["version"]


def test_a_payload_breaking_its_schema_is_refused():
    bad = {"schema": 1, "report_id": "r", "item_id": "i", "started_at": "yesterday"}
    assert list(schema_validator("ProofOfPlay").iter_errors(bad))
    assert list(schema_validator("Ack").iter_errors({"schema": 2, "result": "accepted"}))
