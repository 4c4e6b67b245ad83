"""Commands over a real broker and over the HTTP fallback: lifecycle, correlation by id, waiting
for an offline device until the time to live, timeouts, idempotent requests, audit."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.devices.commands import services as commands
from backend.devices.health import presence
from backend.devices.tables import DeviceCommand
from backend.devices.topics import Topics
from tests.broadcast.support import drain
from tests.devices.support import BASE, as_device, basic, broker_address, eventually, next_message, registered


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _status(command_id: str) -> str:
    row = (
        await DeviceCommand.select(DeviceCommand.status)
        .where(DeviceCommand.id == uuid.UUID(command_id))
        .first()
    )
    return row["status"]


async def test_a_command_travels_to_the_device_and_its_replies_come_back(client, factory, settings):
    await factory.tree()
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001")
    topics = Topics.for_settings(settings)
    async with as_device(broker_address(client, settings), d) as mqtt:
        await mqtt.subscribe(topics.device(d.id, "commands"), qos=1)
        await mqtt.publish(topics.device(d.id, "status"), b"online", qos=1, retain=True)
        await eventually(lambda: _device_state(d.id, "online"))
        r = await client.post(
            f"{BASE}/{d.id}/commands",
            json={"kind": "set_volume", "params": {"volume": 65}},
            headers=official.headers,
        )
        assert r.status_code == 201, r.text
        command = r.json()
        assert command["status"] == "queued"
        await drain(client)
        message = msgspec.json.decode((await next_message(mqtt)).payload)
        assert (
            message["id"] == command["id"]
            and message["kind"] == "set_volume"
            and message["params"] == {"volume": 65}
        )
        assert await _status(command["id"]) == "sent"
        replies = topics.device(d.id, "replies")
        await mqtt.publish(replies, msgspec.json.encode({"id": command["id"], "status": "delivered"}), qos=1)
        await eventually(lambda: _is(command["id"], "delivered"))
        done = {"id": command["id"], "status": "succeeded", "result": {"volume": 65}}
        await mqtt.publish(replies, msgspec.json.encode(done), qos=1)
        await eventually(lambda: _is(command["id"], "succeeded"))
        # A late or repeated reply changes nothing.
        await mqtt.publish(replies, msgspec.json.encode({"id": command["id"], "status": "failed"}), qos=1)
        await mqtt.publish(topics.device(d.id, "status"), b"online", qos=1, retain=True)
    shown = (await client.get(f"{BASE}/commands/{command['id']}", headers=official.headers)).json()
    assert shown["status"] == "succeeded" and shown["result"] == {"volume": 65} and shown["delivered_at"]
    actions = [a["action"] for a in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert "device.command" in actions and "device.command_succeeded" in actions


async def _device_state(device_id: str, state: str) -> bool:
    from backend.devices.tables import Device

    row = await Device.select(Device.state).where(Device.id == uuid.UUID(device_id)).first()
    return row["state"] == state


async def _is(command_id: str, status: str) -> bool:
    return await _status(command_id) == status


async def test_persistent_commands_wait_for_an_offline_device_until_their_ttl(client, factory, app_rt, clock):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001")
    device_id = uuid.UUID(d.id)
    body = {"kind": "refresh_manifest", "ttl_seconds": 600}
    waiting = (await client.post(f"{BASE}/{d.id}/commands", json=body, headers=leader.headers)).json()
    late = (
        await client.post(f"{BASE}/{d.id}/commands", json={**body, "ttl_seconds": 60}, headers=leader.headers)
    ).json()
    once = (
        await client.post(
            f"{BASE}/{d.id}/commands", json={"kind": "stop", "persistent": False}, headers=leader.headers
        )
    ).json()
    await drain(client)
    assert [await _status(c["id"]) for c in (waiting, late, once)] == ["queued", "queued", "sent"]
    clock.advance(seconds=120)
    assert await commands.sweep(app_rt) == 2  # `late` expired, `once` timed out without a reply
    assert [await _status(c["id"]) for c in (waiting, late, once)] == ["queued", "expired", "timed_out"]
    await presence.touch(app_rt, device_id)  # the device comes back
    await drain(client)
    assert await _status(waiting["id"]) == "sent"
    assert await _status(late["id"]) == "expired"


async def test_http_fallback_polls_and_answers(client, factory, app_rt):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001", kind="receiver")
    other = await registered(client, leader, "38001", kind="receiver")
    command = (
        await client.post(
            f"{BASE}/{d.id}/commands",
            json={"kind": "play_now", "params": {"media_sha256": "a" * 64}, "request_key": "req-000001"},
            headers=leader.headers,
        )
    ).json()
    again = await client.post(
        f"{BASE}/{d.id}/commands",
        json={"kind": "play_now", "params": {"media_sha256": "a" * 64}, "request_key": "req-000001"},
        headers=leader.headers,
    )
    assert again.json()["id"] == command["id"]
    assert (await client.get("/api/v1/device/commands")).status_code == 401
    assert (await client.get("/api/v1/device/commands", headers=basic(d, "wrong"))).status_code == 401
    polled = (await client.get("/api/v1/device/commands", headers=basic(d))).json()["items"]
    assert [c["id"] for c in polled] == [command["id"]] and polled[0]["params"]["media_sha256"] == "a" * 64
    assert await _status(command["id"]) == "sent"
    assert (await client.get("/api/v1/device/commands", headers=basic(other))).json()["items"] == []
    # Another device cannot answer this device's command.
    foreign = {"id": command["id"], "status": "failed"}
    assert (
        await client.post("/api/v1/device/replies", json=foreign, headers=basic(other))
    ).status_code == 200
    assert await _status(command["id"]) == "sent"
    ok = {"id": command["id"], "status": "succeeded"}
    assert (await client.post("/api/v1/device/replies", json=ok, headers=basic(d))).status_code == 200
    assert await _status(command["id"]) == "succeeded"
    state = {"version": 3, "volume": 55}
    assert (await client.post("/api/v1/device/state", json=state, headers=basic(d))).status_code == 200
    shown = (await client.get(f"{BASE}/{d.id}/state", headers=leader.headers)).json()
    assert shown["reported"]["volume"] == 55 and shown["state"] == "online"


async def test_bad_commands_are_refused(client, factory):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001")
    for body, status in (
        ({"kind": "set_volume", "params": {"volume": 101}}, 422),
        ({"kind": "relay_start", "params": {"url": "ftp://x"}}, 422),
        ({"kind": "play_now", "params": {}}, 422),
        ({"kind": "self_destruct"}, 400),
    ):
        r = await client.post(f"{BASE}/{d.id}/commands", json=body, headers=leader.headers)
        assert r.status_code == status, (body, r.text)
    elsewhere = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    r = await client.post(f"{BASE}/{d.id}/commands", json={"kind": "stop"}, headers=elsewhere.headers)
    assert r.status_code == 404
    assert await DeviceCommand.count() == 0
