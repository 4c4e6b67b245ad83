"""Desired state: stored with a version, published retained through the outbox, compared with
what the device reports."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec

from backend.broadcast.tables import Manifest
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.devices.topics import Topics
from tests.broadcast.support import drain, station
from tests.devices.asyncapi import schema_validator
from tests.devices.support import BASE, as_device, basic, broker_address, next_message, registered


async def test_desired_state_reaches_the_device_retained_and_the_delta_closes(client, factory, settings):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001")
    r = await client.put(f"{BASE}/{d.id}/desired", json={"volume": 70}, headers=leader.headers)
    assert r.status_code == 200, r.text
    r = await client.put(f"{BASE}/{d.id}/desired", json={"firmware": "2.1.0"}, headers=leader.headers)
    state = r.json()
    assert state["desired"] == {"volume": 70, "firmware": "2.1.0"} and state["desired_version"] == 2
    assert {x["field"] for x in state["delta"]} == {"volume", "firmware"} and not state["in_sync"]
    await drain(client)
    # The device, connecting later, gets the latest desired document at once (retained).
    topics = Topics.for_settings(settings)
    async with as_device(broker_address(client, settings), d) as mqtt:
        await mqtt.subscribe(topics.device(d.id, "state/desired"), qos=1)
        message = await next_message(mqtt)
        assert message.retain
        document = msgspec.json.decode(message.payload)
    # Every document also says where the device sits and what it may subscribe to.
    placement = {"area_code": "38001", "area_path": "/VN/38/38001/", "group_id": None}
    subscribe = [
        topics.device(d.id, "commands"),
        topics.device(d.id, "state/desired"),
        *(topics.area_emergency_filter(code) for code in ("VN", "38", "38001")),
    ]
    expected = {
        "schema": 1,
        "version": 2,
        "volume": 70,
        "firmware": "2.1.0",
        "placement": {**placement, "subscribe": subscribe},
    }
    assert document == expected
    schema_validator("DesiredState").validate(document)
    polled = (await client.get("/api/v1/device/desired", headers=basic(d))).json()
    assert polled == expected
    report = {"version": 1, "volume": 70, "firmware": "2.1.0"}
    await client.post("/api/v1/device/state", json=report, headers=basic(d))
    after = (await client.get(f"{BASE}/{d.id}/state", headers=leader.headers)).json()
    assert after["delta"] == [] and after["in_sync"]
    audited = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action == "device.desired_set")
    assert len(audited) == 2
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    assert (
        await client.put(f"{BASE}/{d.id}/desired", json={"volume": 1}, headers=official.headers)
    ).status_code == 404
    bad = await client.put(f"{BASE}/{d.id}/desired", json={"volume": 150}, headers=leader.headers)
    assert bad.status_code == 400


async def test_delta_names_the_groups_current_manifests_the_device_does_not_run(client, factory, app_rt):
    await factory.tree()
    leader, st = await station(client, factory, "38001")
    d = await registered(client, leader, "38001")
    now = app_rt.clock.now()
    await Manifest.insert(
        Manifest(
            id=uuid.uuid4(),
            scope=f"group:{st['default_group_id']}:audio",
            kind="audio",
            group_id=uuid.UUID(st["default_group_id"]),
            version=3,
            envelope="{}",
            valid_from=now,
            valid_until=now + timedelta(days=1),
            current=True,
        )
    )
    state = (await client.get(f"{BASE}/{d.id}/state", headers=leader.headers)).json()
    assert state["delta"] == [{"field": "manifests.audio", "desired": 3, "reported": None}]
    await client.post(
        "/api/v1/device/state", json={"version": 1, "manifests": {"audio": 2}}, headers=basic(d)
    )
    state = (await client.get(f"{BASE}/{d.id}/state", headers=leader.headers)).json()
    assert state["delta"] == [{"field": "manifests.audio", "desired": 3, "reported": 2}]
    await client.post(
        "/api/v1/device/state", json={"version": 2, "manifests": {"audio": 3}}, headers=basic(d)
    )
    assert (await client.get(f"{BASE}/{d.id}/state", headers=leader.headers)).json()["in_sync"]
