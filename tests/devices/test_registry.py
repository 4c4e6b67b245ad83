"""The device registry over HTTP: registration, placement in a station group, scoped reading,
credentials issued once and rotated, and the password and topic checks the broker relies on."""

from __future__ import annotations

import uuid

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.devices import services
from backend.devices.broker_hash import mosquitto_verify
from backend.devices.tables import DeviceCredential
from backend.devices.topics import Topics
from backend.lib.db import json_column
from tests.broadcast.support import station

BASE = "/api/v1/devices"


async def test_register_places_the_device_in_the_communes_default_group(client, factory, app_rt):
    await factory.tree()
    _, st = await station(client, factory, "38001")
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    body = {
        "kind": "cluster",
        "area_code": "38001-01",
        "name": "Cụm loa thôn Đông",
        "hardware_id": "HW-0001",
        "latitude": 19.81,
        "longitude": 105.77,
        "capabilities": {"codecs": ["mp3", "opus"]},
        "firmware": "1.2.0",
    }
    r = await client.post(BASE, json=body, headers=leader.headers)
    assert r.status_code == 201, r.text
    device = r.json()
    assert device["group_id"] == st["default_group_id"]
    assert device["station_id"] == st["id"]
    assert device["area_path"].endswith("/38001/38001-01/")
    assert (device["status"], device["state"], device["credential_version"]) == ("pending", "unknown", None)
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "device.register") & (AuditEntry.target_id == device["id"])
    )
    again = await client.post(BASE, json=body, headers=leader.headers)
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {"hardware_id": "HW-0001"}


async def test_bad_input_is_refused_and_nothing_is_stored(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    cases = [
        ({"kind": "cluster", "area_code": "99999"}, 422),
        ({"kind": "toaster", "area_code": "38001"}, 400),
        ({"kind": "cluster", "area_code": "38001", "latitude": 19.8}, 422),
        ({"kind": "cluster", "area_code": "38001", "group_id": str(uuid.uuid4())}, 422),
        ({"kind": "eboard", "area_code": "38001", "capabilities": {"screen_width": 0}}, 400),
    ]
    for body, status in cases:
        r = await client.post(BASE, json=body, headers=admin.headers)
        assert r.status_code == status, (body, r.text)
    assert (await client.get(BASE, headers=admin.headers)).json()["items"] == []


async def test_group_of_another_commune_is_refused(client, factory):
    await factory.tree()
    _, other = await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    r = await client.post(
        BASE,
        json={"kind": "cluster", "area_code": "38001", "group_id": other["default_group_id"]},
        headers=admin.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "group_id"


async def test_reading_is_scoped_to_the_accounts_areas(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    ids = {}
    for area in ("38001", "38002", "40001"):
        r = await client.post(BASE, json={"kind": "eboard", "area_code": area}, headers=admin.headers)
        ids[area] = r.json()["id"]
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    seen = (await client.get(BASE, headers=official.headers)).json()["items"]
    assert [d["id"] for d in seen] == [ids["38001"]]
    assert (await client.get(f"{BASE}/{ids['38002']}", headers=official.headers)).status_code == 404
    assert (await client.get(f"{BASE}/{ids['38001']}", headers=official.headers)).status_code == 200
    province = await factory.user((Role.PROVINCE_APPROVER, "38"))
    listed = (await client.get(BASE, params={"area": "38", "limit": 1}, headers=province.headers)).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    rest = await client.get(
        BASE, params={"area": "38", "cursor": listed["next_cursor"]}, headers=province.headers
    )
    assert {d["id"] for d in listed["items"] + rest.json()["items"]} == {ids["38001"], ids["38002"]}
    # Registering and credentials need device.manage: a commune official only watches.
    r = await client.post(BASE, json={"kind": "eboard", "area_code": "38001"}, headers=official.headers)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/{ids['38001']}/credentials", headers=official.headers)
    assert r.status_code == 403
    citizen = await factory.user(kind="citizen")
    assert (await client.get(BASE, headers=citizen.headers)).status_code == 403


async def test_credentials_are_shown_once_rotate_and_authenticate(client, factory, app_rt):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    device = (
        await client.post(BASE, json={"kind": "receiver", "area_code": "38001-02"}, headers=admin.headers)
    ).json()
    first = await client.post(f"{BASE}/{device['id']}/credentials", headers=admin.headers)
    assert first.status_code == 201, first.text
    creds = first.json()
    assert creds["username"] == device["id"] and creds["version"] == 1 and len(creds["password"]) >= 32
    assert creds["mqtt_topic_root"] == Topics.for_settings(app_rt.settings).root
    shown = (await client.get(f"{BASE}/{device['id']}", headers=admin.headers)).json()
    assert shown["status"] == "active" and shown["credential_version"] == 1
    assert "password" not in shown

    found = await services.authenticate_device(app_rt, creds["username"], creds["password"])
    assert found is not None and found.id == uuid.UUID(device["id"]) and found.credential_version == 1
    assert await services.authenticate_device(app_rt, creds["username"], "wrong") is None
    assert await services.authenticate_device(app_rt, "not-a-uuid", creds["password"]) is None
    stored = (
        await DeviceCredential.select().where(DeviceCredential.device_id == uuid.UUID(device["id"])).first()
    )
    assert creds["password"] not in str(stored)
    assert mosquitto_verify(creds["password"], stored["broker_hash"])

    second = (await client.post(f"{BASE}/{device['id']}/credentials", headers=admin.headers)).json()
    assert second["version"] == 2 and second["password"] != creds["password"]
    assert await services.authenticate_device(app_rt, creds["username"], creds["password"]) is None
    assert await services.authenticate_device(app_rt, creds["username"], second["password"]) is not None
    audited = await AuditEntry.select(AuditEntry.details).where(
        AuditEntry.action == "device.credentials_issue"
    )
    assert [json_column(a["details"], {})["version"] for a in audited] == [1, 2]
    assert all("password" not in str(a) for a in audited)


async def test_topics_allowed_cover_own_group_and_area_ancestors_only(client, factory, app_rt):
    await factory.tree()
    _, st = await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    device = (
        await client.post(BASE, json={"kind": "cluster", "area_code": "38001-01"}, headers=admin.headers)
    ).json()
    creds = (await client.post(f"{BASE}/{device['id']}/credentials", headers=admin.headers)).json()
    found = await services.authenticate_device(app_rt, creds["username"], creds["password"])
    topics = Topics.for_settings(app_rt.settings)
    subscribe, publish = services.device_topics_allowed(found, topics)
    root, me = topics.root, device["id"]
    assert subscribe == [
        f"{root}/devices/{me}/commands",
        f"{root}/devices/{me}/state/desired",
        f"{root}/groups/{st['default_group_id']}/manifest/+",
        f"{root}/areas/VN/emergency/+",
        f"{root}/areas/38/emergency/+",
        f"{root}/areas/38001/emergency/+",
        f"{root}/areas/38001-01/emergency/+",
    ]
    assert publish == [
        f"{root}/devices/{me}/{c}" for c in ("status", "state/reported", "replies", "acks", "proof", "events")
    ]


async def test_edit_moves_a_device_and_refuses_stale_versions(client, factory):
    await factory.tree()
    _, first = await station(client, factory, "38001")
    _, second = await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    device = (
        await client.post(BASE, json={"kind": "cluster", "area_code": "38001"}, headers=admin.headers)
    ).json()
    assert device["group_id"] == first["default_group_id"]
    r = await client.patch(
        f"{BASE}/{device['id']}",
        json={
            "row_version": device["row_version"],
            "area_code": "38002-01",
            "name": "Cụm loa tổ 1",
            "latitude": 19.8,
            "longitude": 105.7,
        },
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["area_code"], moved["group_id"], moved["station_id"]) == (
        "38002-01",
        second["default_group_id"],
        second["id"],
    )
    assert moved["name"] == "Cụm loa tổ 1" and moved["row_version"] == device["row_version"] + 1
    stale = await client.patch(
        f"{BASE}/{device['id']}",
        json={"row_version": device["row_version"], "notes": "x"},
        headers=admin.headers,
    )
    assert stale.status_code == 409
    half = await client.patch(
        f"{BASE}/{device['id']}",
        json={"row_version": moved["row_version"], "latitude": None},
        headers=admin.headers,
    )
    assert half.status_code == 200  # None keeps the stored value
    leader = await factory.user((Role.COMMUNE_LEADER, "38002"))
    away = await client.patch(
        f"{BASE}/{device['id']}",
        json={"row_version": half.json()["row_version"], "area_code": "38001"},
        headers=leader.headers,
    )
    assert away.status_code == 403  # not into a commune the leader does not hold
    assert await AuditEntry.exists().where(AuditEntry.action == "device.edit")
