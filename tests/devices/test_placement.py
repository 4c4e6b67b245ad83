"""A device moved to another area and station group learns where it now sits from its desired
state, with the credentials it has: a simulated device on the server's broker is moved by staff,
then hears its new commune's emergencies and its new group's manifests and no longer the old
ones; its reported placement catches up and the delta closes. (On the embedded broker the move
also drops its session and the guard confines it to its new topics; the system Mosquitto used by
the tests has no ACL, so there this proves the resubscription alone.)"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from backend.adapters.clock import FakeClock
from backend.broadcast.manifests import store
from backend.broadcast.programme.build import publish_group
from backend.broadcast.tables import Manifest
from backend.core.accounts.permissions import Role
from backend.devices.topics import Topics
from mobile_client_py.device import Behaviour, Fleet, ManualClock, SimulatedDevice, provision
from mobile_client_py.device.fleet import province_keys
from tests.broadcast.support import drain, publish, station
from tests.devices.asyncapi import schema_validator
from tests.devices.support import BASE, Registered, basic, broker_address, eventually


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def eboard_draft(rt, group: dict[str, Any], text: str) -> store.Draft:
    now = rt.clock.now()
    group_id = uuid.UUID(group["default_group_id"])
    return store.Draft(
        kind="eboard",
        scope=store.group_scope(group_id, "eboard"),
        station_id=uuid.UUID(group["id"]),
        group_id=group_id,
        area_codes=[],
        entries=[{"id": text}],
        media=[],
        notices=[],
        valid_from=now,
        valid_until=now + timedelta(days=1),
    )


def received(device: SimulatedDevice, manifest_id: str) -> bool:
    return any(r.manifest_id == manifest_id for r in device.stats.received)


async def emergency_in(client, leader, area: str) -> str:
    """Publish an emergency for ``area`` and return its manifest's id."""
    before = {r["id"] for r in await Manifest.select(Manifest.id).where(Manifest.kind == "emergency")}
    await publish(
        client, leader, emergency=True, priority="emergency", category="disaster", target_areas=[area]
    )
    await drain(client)
    after = {r["id"] for r in await Manifest.select(Manifest.id).where(Manifest.kind == "emergency")}
    [new] = after - before
    return str(new)


async def test_a_moved_device_follows_its_new_area_and_group_without_new_credentials(
    client, factory, app_rt, settings, clock
):
    await factory.tree()
    old_leader, old_station = await station(client, factory, "38001")
    new_leader, new_station = await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    [identity], root = await provision(client, admin.headers, count=1, area_codes=["38001-01"])
    address = broker_address(client, settings)
    fleet = Fleet(
        [identity],
        address.host,
        address.port,
        root,
        await province_keys(client),
        ManualClock(clock.now(), follow=clock),
        Behaviour(play=False),
    )
    device = fleet.devices[0]
    as_registered = Registered(identity.device_id, identity.password, {})
    state_url = f"{BASE}/{identity.device_id}/state"

    async def state() -> dict[str, Any]:
        r = await client.get(state_url, headers=admin.headers)
        assert r.status_code == 200, r.text
        return r.json()

    old_place = {
        "area_code": "38001-01",
        "area_path": "/VN/38/38001/38001-01/",
        "group_id": old_station["default_group_id"],
    }
    new_place = {
        "area_code": "38002",
        "area_path": "/VN/38/38002/",
        "group_id": new_station["default_group_id"],
    }
    await fleet.start()
    try:
        # First connect: the document published with its credentials names where it already
        # sits and exactly the filters it computed itself, so nothing moves.
        await drain(client)

        async def reported_placement() -> Any:
            return (await state())["reported"].get("placement")

        assert await eventually(reported_placement) == old_place
        assert device.moves == 0 and (await state())["in_sync"]

        row_version = (await client.get(f"{BASE}/{identity.device_id}", headers=admin.headers)).json()[
            "row_version"
        ]
        r = await client.patch(
            f"{BASE}/{identity.device_id}",
            json={"row_version": row_version, "area_code": "38002"},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
        moved = await state()
        assert moved["desired"] == {"placement": new_place} and not moved["in_sync"]
        assert [d["field"] for d in moved["delta"]] == ["placement"]
        assert moved["delta"][0]["desired"] == new_place

        await drain(client)  # the new desired document goes out, retained

        async def caught_up() -> bool:
            now = await state()
            return now["in_sync"] and now["reported"].get("placement") == new_place

        await eventually(caught_up)
        assert device.moves == 1 and device.identity.area_path == "/VN/38/38002/"
        assert device.identity.group_id == new_station["default_group_id"]
        topics = Topics.for_settings(settings)
        document = (await client.get("/api/v1/device/desired", headers=basic(as_registered))).json()
        moved_filters = document["placement"]["subscribe"]
        assert device.subscriptions() == moved_filters
        assert topics.area_emergency_filter("38001") not in moved_filters
        assert topics.area_emergency_filter("38002") in moved_filters
        final = await state()
        assert final["delta"] == [] and final["desired_version"] == moved["desired_version"]
        schema_validator("ReportedState").validate({"schema": 1, **final["reported"]})

        # After losing its connection it comes back listening where it was moved to.
        connects = device.stats.connects
        device.behaviour.offline_seconds = 0.1
        device.drop()

        async def back() -> bool:
            return device.stats.connects > connects and device.connected.is_set()

        await eventually(back)
        assert set(device.subscriptions()) == set(moved_filters)

        # The old commune's emergency and group manifest go out first, then the new ones:
        # only the new ones reach the device.
        old_emergency = await emergency_in(client, old_leader, "38001")
        old_board = await publish_group(
            app_rt,
            eboard_draft(app_rt, old_station, "old"),
            topics.group_manifest(old_place["group_id"], "eboard"),
        )
        new_emergency = await emergency_in(client, new_leader, "38002")
        new_board = await publish_group(
            app_rt,
            eboard_draft(app_rt, new_station, "new"),
            topics.group_manifest(new_place["group_id"], "eboard"),
        )

        async def both_new() -> bool:
            return received(device, new_emergency) and received(device, str(new_board.id))

        await eventually(both_new)
        assert not received(device, old_emergency)
        assert not received(device, str(old_board.id))

    finally:
        await fleet.stop()
