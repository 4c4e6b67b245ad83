"""The embedded broker checks devices against the registry and confines them to their topics;
a revoked device is dropped at once and cannot come back."""

from __future__ import annotations

import aiomqtt
import pytest

from backend.core.accounts.permissions import Role
from backend.devices.topics import Topics
from tests.broadcast.support import station
from tests.devices.acl_scenario import device_is_confined, refused, strangers_are_refused
from tests.devices.support import (
    BASE,
    as_device,
    as_server,
    broker_address,
    granted,
    next_message,
    registered,
)


@pytest.fixture
def settings(settings):
    """Always the embedded broker, on both databases."""
    return settings.with_(mqtt_url="embedded", mqtt_port=0)


async def _pair(client, factory):
    await factory.tree()
    await station(client, factory, "38001")
    await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01")
    b = await registered(client, admin, "38002")
    return admin, a, b


async def test_a_device_is_confined_to_its_own_topics(client, factory, settings):
    _, a, b = await _pair(client, factory)
    address = broker_address(client, settings)
    await device_is_confined(address, settings, a, b)
    await strangers_are_refused(address, a)
    # A device cannot take another's client id (and with it the other's session).
    await refused(address, a, identifier=b.id)
    # Its Last Will may only say it is offline on its own status topic.
    topics = Topics.for_settings(settings)
    await refused(
        address, a, will=aiomqtt.Will(topics.device(b.id, "status"), b"offline", qos=1, retain=True)
    )


async def test_revocation_drops_the_live_session_at_once(client, factory, settings):
    admin, a, _ = await _pair(client, factory)
    address = broker_address(client, settings)
    topics = Topics.for_settings(settings)
    status = topics.device(a.id, "status")
    will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
    async with as_server(address, settings) as probe:
        await probe.subscribe(status, qos=1)
        async with as_device(address, a, will=will, identifier=f"{a.id}-main") as mqtt:
            await mqtt.publish(status, b"online", qos=1, retain=True)
            assert (await next_message(probe)).payload == b"online"
            r = await client.post(f"{BASE}/{a.id}/revoke", headers=admin.headers)
            assert r.status_code == 200
            # The broker dropped A: its Last Will is published without A doing anything.
            assert (await next_message(probe)).payload == b"offline"
    await refused(address, a)


async def test_rotation_drops_sessions_of_the_old_password_only(client, factory, settings):
    admin, a, _ = await _pair(client, factory)
    address = broker_address(client, settings)
    topics = Topics.for_settings(settings)
    status = topics.device(a.id, "status")
    async with as_server(address, settings) as probe:
        await probe.subscribe(status, qos=1)
        async with as_device(address, a, will=aiomqtt.Will(status, b"offline", qos=1)):
            new = (await client.post(f"{BASE}/{a.id}/credentials", headers=admin.headers)).json()
            assert (await next_message(probe)).payload == b"offline"
        rotated = a.__class__(a.id, new["password"], a.body)
        async with as_device(address, rotated) as mqtt:
            await mqtt.publish(status, b"online", qos=1)
            assert (await next_message(probe)).payload == b"online"
    await refused(address, a)


async def test_a_moved_device_is_dropped_and_comes_back_with_its_new_topics(client, factory, settings):
    admin, a, _ = await _pair(client, factory)
    address = broker_address(client, settings)
    topics = Topics.for_settings(settings)
    status = topics.device(a.id, "status")
    async with as_server(address, settings) as probe:
        await probe.subscribe(status, qos=1)
        async with as_device(address, a, will=aiomqtt.Will(status, b"offline", qos=1)):
            r = await client.patch(
                f"{BASE}/{a.id}",
                json={"row_version": a.body["row_version"], "area_code": "38002"},
                headers=admin.headers,
            )
            assert r.status_code == 200, r.text
            assert (await next_message(probe)).payload == b"offline"
    async with as_device(address, a) as mqtt:
        assert granted(await mqtt.subscribe(topics.area_emergency_filter("38002"), qos=1)) == [1]
        assert granted(await mqtt.subscribe(topics.area_emergency_filter("38001"), qos=1)) == [128]
