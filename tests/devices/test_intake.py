"""The device intake: reports from many devices recorded together, in arrival order, none lost
when one of them is bad."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec

from backend.core.accounts.permissions import Role
from backend.devices import intake as intake_module
from backend.devices.health.schemas import ReportedState
from backend.devices.intake import DeviceIntake, Report
from backend.devices.proof.schemas import AckIn
from backend.devices.proof.tables import ManifestAck
from backend.devices.tables import Device, DeviceAlarm, DeviceStateChange
from backend.devices.topics import Topics
from backend.lib.db import json_column
from tests.broadcast.support import station
from tests.devices.support import BASE, as_server, broker_address, eventually


def _rejection(n: int) -> dict:
    """An acknowledgement the server keeps without a manifest of its own: a manifest that could
    not be read, with the device's reason."""
    return {
        "schema": 1,
        "result": "rejected",
        "reason": f"bad_signature_{n}",
        "scope": "group:x",
        "kind": "audio",
        "version": 3,
        "at": "2026-11-27T08:00:00+00:00",
    }


async def _devices(client, user, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await client.post(
            BASE, json={"kind": "cluster", "area_code": "38001-01", "name": f"Cụm {i}"}, headers=user.headers
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def test_reports_of_a_fleet_arrive_over_the_broker_and_are_recorded(client, factory, settings):
    await factory.tree()
    await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    ids = await _devices(client, admin, 40)
    topics = Topics.for_settings(settings)
    stranger = str(uuid.uuid4())
    async with as_server(broker_address(client, settings), settings) as mqtt:
        for n, device_id in enumerate(ids):
            await mqtt.publish(topics.device(device_id, "status"), b"online", qos=1)
            await mqtt.publish(topics.device(device_id, "acks"), msgspec.json.encode(_rejection(n)), qos=1)
            await mqtt.publish(topics.device(device_id, "acks"), msgspec.json.encode(_rejection(n)), qos=1)
        await mqtt.publish(topics.device(stranger, "acks"), msgspec.json.encode(_rejection(99)), qos=1)
        # The last device goes away right after: its Will must not be overtaken by its ``online``.
        await mqtt.publish(topics.device(ids[-1], "status"), b"offline", qos=1)

    async def settled() -> bool:
        return (
            await ManifestAck.count() == len(ids)
            and (await Device.select(Device.state).where(Device.id == uuid.UUID(ids[-1])).first())["state"]
            == "offline"
        )

    assert await eventually(settled)
    await client.app.state.device_intake.join()
    acks = await ManifestAck.select(ManifestAck.device_id, ManifestAck.reason)
    assert sorted((a["device_id"], a["reason"]) for a in acks) == sorted(
        (d, f"bad_signature_{n}") for n, d in enumerate(ids)
    )
    rows = await Device.select(Device.id, Device.state, Device.connected, Device.last_activity_at)
    by_id = {str(r["id"]): r for r in rows}
    assert all(by_id[d]["state"] == "online" and by_id[d]["connected"] for d in ids[:-1])
    assert by_id[ids[-1]]["state"] == "offline" and not by_id[ids[-1]]["connected"]
    assert all(by_id[d]["last_activity_at"] is not None for d in ids)
    history = (
        await DeviceStateChange.select(DeviceStateChange.state)
        .where(DeviceStateChange.device_id == uuid.UUID(ids[-1]))
        .order_by(DeviceStateChange.id)
    )
    assert [h["state"] for h in history][-2:] == ["online", "offline"]


async def test_runs_of_batchable_reports_go_together_and_others_alone_in_order(app_rt, monkeypatch):
    calls: list[tuple[str, ...]] = []

    async def together(rt, reports):
        calls.append(tuple(r.kind for r in reports))

    async def alone(rt, device_id, body):
        calls.append(("offline",))

    monkeypatch.setattr(intake_module, "record_activity", together)
    monkeypatch.setitem(intake_module._SINGLE, "offline", alone)
    d = uuid.uuid4()
    await DeviceIntake(app_rt).record(
        [
            Report("online", d),
            Report("ack", d, None),
            Report("ack", d, None),
            Report("offline", d),
            Report("online", d),
        ]
    )
    assert calls == [("online", "ack", "ack"), ("offline",), ("online",)]


async def test_a_bad_report_in_a_batch_loses_only_itself(client, factory):
    await factory.tree()
    await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    ids = [uuid.UUID(d) for d in await _devices(client, admin, 3)]
    at = datetime(2026, 11, 27, 8, tzinfo=UTC)
    good = [
        Report("ack", d, AckIn(result="rejected", reason=f"r{n}", scope="group:x", kind="audio", at=at))
        for n, d in enumerate(ids)
    ]
    broken = Report("ack", ids[0], "not an acknowledgement")  # fails inside the batch's transaction
    state = Report("reported", ids[1], ReportedState(version=1, volume=55))
    await DeviceIntake(client.app.state.rt).record([good[0], state, broken, good[1], good[2]])
    acks = await ManifestAck.select(ManifestAck.device_id, ManifestAck.reason)
    assert sorted(a["reason"] for a in acks) == ["r0", "r1", "r2"]
    row = await Device.select(Device.reported, Device.reported_version).where(Device.id == ids[1]).first()
    assert row["reported_version"] == 1 and json_column(row["reported"])["volume"] == 55


async def test_reported_states_in_one_batch_apply_in_order_with_their_alarms(client, factory):
    await factory.tree()
    await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    quiet, broken = [uuid.UUID(d) for d in await _devices(client, admin, 2)]
    await DeviceIntake(client.app.state.rt).record(
        [
            Report("reported", quiet, ReportedState(version=2, volume=10)),  # too low: alarm
            Report("ack", quiet, AckIn(result="rejected", reason="x", at=datetime(2026, 11, 27, tzinfo=UTC))),
            Report("reported", quiet, ReportedState(version=1, volume=90)),  # older: ignored
            Report("reported", broken, ReportedState(version=1, playing=True, error="amp_fault")),
            Report("reported", quiet, ReportedState(version=3, volume=60, playing=True)),  # clears it
        ]
    )
    rows = {r["id"]: r for r in await Device.select(Device.id, Device.state, Device.reported_version)}
    assert (rows[quiet]["state"], rows[quiet]["reported_version"]) == ("playing", 3)
    assert (rows[broken]["state"], rows[broken]["reported_version"]) == ("error", 1)
    alarms = {
        (a["device_id"], a["type"]): a["active"]
        for a in await DeviceAlarm.select(DeviceAlarm.device_id, DeviceAlarm.type, DeviceAlarm.active)
    }
    assert alarms == {(quiet, "low_volume"): False, (broken, "playback_error"): True}
