"""Presence over a real broker: the retained online message and the Last Will, reported state,
silence past the kind's timeout, and the history of states."""

from __future__ import annotations

import contextlib
import uuid

import aiomqtt
import msgspec
import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.core.outbox.tables import OutboxMessage
from backend.devices.health import presence
from backend.devices.health.schemas import ReportedState
from backend.devices.tables import Device, DeviceAlarm
from backend.devices.topics import Topics
from backend.lib.db import json_column
from tests.broadcast.support import station
from tests.devices.support import BASE, as_device, broker_address, drop_connection, eventually, registered


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _state(device_id: str) -> str:
    row = await Device.select(Device.state).where(Device.id == uuid.UUID(device_id)).first()
    return row["state"]


async def test_online_reported_and_last_will_over_the_broker(client, factory, settings):
    await factory.tree()
    await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01", name="Cụm loa thôn Đông")
    topics = Topics.for_settings(settings)
    status = topics.device(a.id, "status")
    address = broker_address(client, settings)
    with contextlib.suppress(aiomqtt.MqttError):
        async with as_device(address, a, will=aiomqtt.Will(status, b"offline", qos=1, retain=True)) as mqtt:
            await mqtt.publish(status, b"online", qos=1, retain=True)
            assert await eventually(lambda: _is(a.id, "online"))
            report = {
                "schema": 1,
                "version": 1,
                "volume": 12,
                "playing": True,
                "power": "mains",
                "firmware": "2.0",
            }
            await mqtt.publish(topics.device(a.id, "state/reported"), msgspec.json.encode(report), qos=1)
            assert await eventually(lambda: _is(a.id, "playing"))
            drop_connection(mqtt)
            assert await eventually(lambda: _is(a.id, "offline"))
    state = (await client.get(f"{BASE}/{a.id}/state", headers=admin.headers)).json()
    assert state["reported"] == {
        "version": 1,
        "volume": 12,
        "playing": True,
        "power": "mains",
        "firmware": "2.0",
    }
    assert state["connected"] is False and state["last_activity_at"]
    history = (await client.get(f"{BASE}/{a.id}/history", headers=admin.headers)).json()["items"]
    assert [(h["previous"], h["state"], h["reason"]) for h in reversed(history)] == [
        ("unknown", "online", "activity"),
        ("online", "playing", "reported"),
        ("playing", "offline", "disconnected"),
    ]
    open_alarms = (await client.get(f"{BASE}/alarms", headers=admin.headers)).json()["items"]
    assert sorted((x["type"], x["severity"]) for x in open_alarms) == [
        ("low_volume", "warning"),
        ("offline", "major"),
    ]
    # A cluster going offline tells its commune's officials (through the outbox).
    assert await OutboxMessage.exists().where(OutboxMessage.channel == "staffinbox")


async def _is(device_id: str, state: str) -> bool:
    return await _state(device_id) == state


async def test_silence_past_the_kinds_timeout_is_offline(client, factory, app_rt, clock):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    cluster = await registered(client, admin, "38001", kind="cluster")
    receiver = await registered(client, admin, "38001", kind="receiver")
    for d in (cluster, receiver):
        await presence.touch(app_rt, uuid.UUID(d.id))
    limit = app_rt.settings.device_offline_seconds_cluster
    clock.advance(seconds=limit - 1)
    assert await presence.sweep(app_rt) == 0
    await presence.touch(app_rt, uuid.UUID(cluster.id))  # real traffic restarts the count
    clock.advance(seconds=limit - 1)
    assert await presence.sweep(app_rt) == 0
    clock.advance(seconds=2)
    assert await presence.sweep(app_rt) == 1
    assert await _state(cluster.id) == "offline" and await _state(receiver.id) == "online"
    assert await presence.sweep(app_rt) == 0  # already offline: no second change, no second alarm
    alarms = await DeviceAlarm.select().where(DeviceAlarm.device_id == uuid.UUID(cluster.id))
    assert len(alarms) == 1 and alarms[0]["active"]
    await presence.touch(app_rt, uuid.UUID(cluster.id))
    assert await _state(cluster.id) == "online"
    cleared = await DeviceAlarm.select().where(DeviceAlarm.device_id == uuid.UUID(cluster.id)).first()
    assert not cleared["active"] and cleared["open_key"]  # cleared, still open until acknowledged


async def test_older_reports_are_ignored(client, factory, app_rt):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    d = await registered(client, admin, "38001")
    device_id = uuid.UUID(d.id)
    await presence.on_reported(app_rt, device_id, ReportedState(version=5, volume=80))
    await presence.on_reported(app_rt, device_id, ReportedState(version=4, volume=10))
    row = await Device.select(Device.reported, Device.reported_version).where(Device.id == device_id).first()
    assert row["reported_version"] == 5
    assert json_column(row["reported"], {}) == {"version": 5, "volume": 80}
