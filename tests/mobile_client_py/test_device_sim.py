"""Simulated devices on a real broker, without a Kẻng server: they verify what arrives signed by a
key they know, refuse a tampered manifest and report it, acknowledge, play on the clock they are
given and report proof of play, reply to commands, and come back after an unclean drop (their
Last Will says offline meanwhile)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest

from backend.adapters.broker import EmbeddedBroker
from backend.adapters.mqtt import BrokerAddress
from backend.broadcast.manifests.signing import public_keys, sign
from backend.lib.crypto import KeyRing
from mobile_client_py.device import Fleet, Identity, ManualClock
from mobile_client_py.manifest import keys_from_response
from tests.devices.asyncapi import schema_validator

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
async def broker(backend) -> AsyncIterator[BrokerAddress]:
    if backend.mqtt_url:
        yield BrokerAddress.parse(backend.mqtt_url)
        return
    embedded = EmbeddedBroker("127.0.0.1", 0)
    await embedded.start()
    try:
        yield BrokerAddress.parse(embedded.url)
    finally:
        await embedded.stop()


def emergency(thread: str, version: int, *, ended: bool = False) -> dict:
    notice = str(uuid.uuid4())
    audio = {
        "id": f"{notice}/audio",
        "kind": "emergency_audio",
        "notice_id": notice,
        "media_id": "ab" * 32,
        "duration_ms": 45_000,
        "preempt": True,
    }
    return {
        "schema": 1, "manifest_id": str(uuid.uuid4()), "kind": "emergency", "station_id": None,
        "group_id": None, "area_codes": ["38001"], "version": version, "issued_at": "2026-11-27T08:00:00Z",
        "valid_from": "2026-11-27T08:00:00Z", "valid_until": "2026-11-27T09:00:00Z",
        "entries": [] if ended else [audio], "media": [],
        "notices": [{"id": notice, "thread_id": thread, "version": 1}], "thread_id": thread,
        "repeat": 2, "interval_s": 300, "ends": "2026-11-27T08:05:45Z", "ended": ended,
    }  # fmt: skip


class Observer:
    """A staff-side subscriber that keeps every device report."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.seen: list[tuple[str, bytes]] = []

    def of(self, channel: str) -> list[dict]:
        return [json.loads(p) for t, p in self.seen if t.endswith(f"/{channel}") and p]

    async def until(self, check, seconds: float = 20.0) -> None:
        async with asyncio.timeout(seconds):
            while not check():  # noqa: ASYNC110 (messages arrive in another task)
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def observer(broker: BrokerAddress, root: str) -> AsyncIterator[Observer]:
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"obs-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"{root}/devices/#", qos=1)
        obs = Observer(client)

        async def pump() -> None:
            async for m in client.messages:
                obs.seen.append((str(m.topic), bytes(m.payload or b"")))

        task = asyncio.create_task(pump())
        try:
            yield obs
        finally:
            task.cancel()


async def test_devices_verify_ack_play_prove_and_refuse_a_tampered_manifest(broker, tmp_path):
    ring = KeyRing(tmp_path / "province").load_or_create()
    keys = keys_from_response(public_keys(ring))
    root = f"t{uuid.uuid4().hex[:10]}/keng/v1"
    clock = ManualClock(START)
    identities = [
        Identity(str(uuid.uuid4()), "pw", "cluster", "/VN/38/38001/38001-01/", None),
        Identity(str(uuid.uuid4()), "pw", "cluster", "/VN/38/38001/", None),
        Identity(str(uuid.uuid4()), "pw", "eboard", "/VN/38/38002/", None),  # not in the target area
    ]
    fleet = Fleet(identities, broker.host, broker.port, root, keys, clock)
    async with observer(broker, root) as obs:
        await fleet.start()
        await obs.until(lambda: len(obs.of("status")) >= 3)
        assert {s["state"] for s in obs.of("status")} == {"online"}
        for status in obs.of("status"):
            schema_validator("Status").validate(status)
        thread = str(uuid.uuid4())
        payload = emergency(thread, 1)
        async with aiomqtt.Client(
            broker.host, broker.port, identifier=f"srv-{uuid.uuid4().hex[:8]}"
        ) as server:
            await server.publish(
                f"{root}/areas/38001/emergency/{thread}", sign(ring.current, payload), qos=1, retain=True
            )
            targeted = fleet.devices[:2]
            await obs.until(lambda: len(obs.of("acks")) >= 2)
            acks = obs.of("acks")
            assert {a["manifest_id"] for a in acks} == {payload["manifest_id"]}
            assert all(a["result"] == "accepted" and a["version"] == 1 for a in acks)
            for ack in acks:
                schema_validator("Ack").validate(ack)
            assert fleet.devices[2].stats.received == []
            # Playback follows the given clock: two plays, 300 s apart, each reported when it ends.
            clock.advance(seconds=46)
            await obs.until(lambda: len(obs.of("proof")) == 2)
            clock.advance(seconds=300)
            await obs.until(lambda: len(obs.of("proof")) == 4)
            for proof in obs.of("proof"):
                schema_validator("ProofOfPlay").validate(proof)
                assert proof["result"] == "played" and proof["notice_id"] == payload["notices"][0]["id"]
                assert proof["manifest_version"] == 1 and proof["notice_version"] == 1
            assert {p["started_at"] for p in obs.of("proof")} == {
                "2026-11-27T08:00:00.000Z",
                "2026-11-27T08:05:00.000Z",
            }
            # A manifest whose payload was changed after signing is refused and reported.
            forged = json.loads(sign(ring.current, emergency(thread, 2)))
            other = json.loads(sign(ring.current, emergency(thread, 3)))
            forged["payload"] = other["payload"]
            await server.publish(
                f"{root}/areas/38001/emergency/{thread}", json.dumps(forged), qos=1, retain=True
            )
            await obs.until(lambda: len(obs.of("events")) >= 2)
            assert all(d.stats.rejected == ["bad_signature"] for d in targeted)
            assert all(d.verifier.held[f"emergency:{thread}"] == 1 for d in targeted)
            rejected = [a for a in obs.of("acks") if a["result"] == "rejected"]
            assert len(rejected) == 2 and {a["reason"] for a in rejected} == {"bad_signature"}
            for event in obs.of("events"):
                schema_validator("Event").validate(event)
                assert event["type"] == "manifest_verification_failed"
            # A command is answered with its correlation id.
            command = {
                "schema": 1,
                "id": "6a1c1f7e-3f52-4c57-8d0e-0d5b3c9a2f10",
                "kind": "set_volume",
                "params": {"volume": 35},
                "expires_at": "2026-11-27T09:00:00Z",
            }
            await server.publish(
                f"{root}/devices/{identities[2].device_id}/commands", json.dumps(command), qos=1
            )
            await obs.until(lambda: obs.of("replies"))
            assert (
                obs.of("replies")[0]["id"] == command["id"] and obs.of("replies")[0]["status"] == "succeeded"
            )
            assert fleet.devices[2].volume == 35
            schema_validator("Reply").validate(obs.of("replies")[0])
            await obs.until(lambda: obs.of("state/reported"))
            schema_validator("ReportedState").validate(obs.of("state/reported")[0])
            assert obs.of("state/reported")[0]["volume"] == 35
        # An unclean drop: the broker publishes the Last Will, then the device comes back online.
        dropped = fleet.devices[0]
        status_topic = dropped.own("status")
        before = len([t for t, _ in obs.seen if t == status_topic])
        dropped.behaviour.offline_seconds = 0.1
        dropped.drop()
        await obs.until(lambda: len([t for t, _ in obs.seen if t == status_topic]) >= before + 2)
        statuses = [json.loads(p)["state"] for t, p in obs.seen if t == status_topic][before:]
        assert statuses[:2] == ["offline", "online"]
        await fleet.stop()
    # The retained emergency reaches a device that connects later, verified the same way.
    clock.set(START + timedelta(minutes=1))
    late = Fleet(
        [Identity(str(uuid.uuid4()), "pw", "receiver", "/VN/38/38001/38001-02/", None)],
        broker.host,
        broker.port,
        root,
        keys,
        clock,
    )
    await late.start()
    await late.wait_for(lambda d: bool(d.stats.rejected or d.stats.received))
    # The forged one is what is retained now (amqtt may deliver it once per matching subscription).
    assert set(late.devices[0].stats.rejected) == {"bad_signature"}
    await late.stop()
