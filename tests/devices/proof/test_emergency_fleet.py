"""Simulated devices against the real server and broker: an emergency is published once per target
area; every targeted device verifies it, acknowledges it (missing acks are listed per device),
plays it on the shared clock and proves it, which the notice's coverage then shows."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from backend.adapters.clock import FakeClock
from backend.adapters.mqtt import BrokerAddress
from backend.broadcast.tables import Manifest
from backend.core.accounts.permissions import Role
from backend.devices.proof.tables import ManifestAck
from mobile_client_py.device import Fleet, ManualClock, provision
from mobile_client_py.device.fleet import province_keys
from tests.broadcast.support import drain, publish, station
from tests.devices.asyncapi import schema_validator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def until(check, seconds: float = 30.0) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 (the server records what devices send)
            await asyncio.sleep(0.05)


async def test_emergency_reaches_verifies_acks_and_proves_on_every_targeted_device(
    client, factory, app_rt, settings, clock
):
    await factory.tree()
    leader, _ = await station(client, factory, "38001")
    clusters, root = await provision(client, leader.headers, count=3, area_codes=["38001-01", "38001"])
    boards, _ = await provision(client, leader.headers, count=1, area_codes=["38001-01"], kind="eboard")
    admin = await factory.user((Role.ADMIN, "VN"))
    away, _ = await provision(client, admin.headers, count=1, area_codes=["38002"])
    broker = client.app.state.broker
    address = BrokerAddress.parse(broker.url if broker is not None else settings.mqtt_url)
    device_clock = ManualClock(clock.now(), follow=clock)
    fleet = Fleet(
        clusters + boards + away, address.host, address.port, root, await province_keys(client), device_clock
    )
    await fleet.start()
    silent = fleet.devices[2]  # a targeted cluster that is off when the emergency goes out
    await silent.stop()
    running = [d for d in fleet.devices if d is not silent]
    try:
        notice = await publish(
            client, leader, emergency=True, priority="emergency", category="disaster", target_areas=["38001"]
        )
        await drain(client)
        manifest = await Manifest.select().where(Manifest.kind == "emergency").first()
        mid = str(manifest["id"])
        targeted = running[:3]
        for device in targeted:
            await asyncio.wait_for(_received(device, mid), 30)
        assert running[3].stats.received == []  # 38002 subscribes to other areas
        payload = json.loads(base64.urlsafe_b64decode(json.loads(manifest["envelope"])["payload"] + "=="))
        schema_validator("EmergencyManifest").validate(payload)

        url = f"/api/v1/notices/{notice['id']}/emergency-acks"

        async def all_acked() -> bool:
            return (await client.get(url, headers=leader.headers)).json()["accepted"] == 3

        await until(all_acked)
        acks = (await client.get(url, headers=leader.headers)).json()
        assert (acks["targeted"], acks["missing"], acks["version"]) == (4, 1, manifest["version"])
        first = acks["devices"][0]
        assert (first["device_id"], first["status"]) == (silent.identity.device_id, "missing")
        assert {d["status"] for d in acks["devices"][1:]} == {"accepted"}
        assert away[0].device_id not in {d["device_id"] for d in acks["devices"]}
        # Once per device, however often the broker hands it over (amqtt may, once per matching filter).
        assert await ManifestAck.count().where(ManifestAck.thread_id == manifest["thread_id"]) == 3

        # Plays follow the shared clock: the first one ends after the audio's duration.
        duration = next(e["duration_ms"] for e in payload["entries"] if e["kind"] == "emergency_audio")
        device_clock.advance(milliseconds=duration + 1000)
        coverage_url = f"/api/v1/notices/{notice['id']}/device-coverage"

        async def proven() -> bool:
            c = (await client.get(coverage_url, headers=leader.headers)).json()
            return c["clusters"]["confirmed"] == 2 and c["boards"]["confirmed"] == 1

        await until(proven)
        coverage = (await client.get(coverage_url, headers=leader.headers)).json()
        assert coverage["clusters"] == {"targeted": 3, "confirmed": 2, "missing": [silent.identity.device_id]}
    finally:
        await fleet.stop()


async def _received(device, manifest_id: str) -> None:
    while not any(r.manifest_id == manifest_id for r in device.stats.received):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
