"""Provisioning: claim codes used once by one box, rotation and revocation, CSV import all or nothing."""

from __future__ import annotations

import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.devices import services
from backend.devices.tables import Device
from tests.broadcast.support import station

BASE = "/api/v1/devices"


async def _device(client, admin, **body):
    r = await client.post(BASE, json={"kind": "cluster", "area_code": "38001", **body}, headers=admin.headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_claim_code_gives_one_box_its_credentials_once(client, factory, app_rt, clock):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    device = await _device(client, admin)
    r = await client.post(f"{BASE}/{device['id']}/claim-code", headers=admin.headers)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert len(code.replace("-", "")) == 12

    r = await client.post(f"{BASE}/claim", json={"code": code.lower(), "hardware_id": "BOX-1"})
    assert r.status_code == 201, r.text
    creds = r.json()
    assert creds["username"] == device["id"] and creds["version"] == 1
    assert await services.authenticate_device(app_rt, creds["username"], creds["password"]) is not None
    shown = (await client.get(f"{BASE}/{device['id']}", headers=admin.headers)).json()
    assert shown["hardware_id"] == "BOX-1" and shown["status"] == "active" and shown["claimed_at"]

    # Another box with the same code is refused; the same box retrying (answer lost) gets new ones.
    other = await client.post(f"{BASE}/claim", json={"code": code, "hardware_id": "BOX-2"})
    assert other.status_code == 403 and other.json()["error"]["code"] == "claim_code_invalid"
    retry = await client.post(f"{BASE}/claim", json={"code": code, "hardware_id": "BOX-1"})
    assert retry.status_code == 201 and retry.json()["version"] == 2
    assert await services.authenticate_device(app_rt, creds["username"], creds["password"]) is None
    clock.advance(minutes=16)
    late = await client.post(f"{BASE}/claim", json={"code": code, "hardware_id": "BOX-1"})
    assert late.status_code == 403
    actions = [a["action"] for a in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions == ["device.register", "device.claim_code_issue", "device.claim", "device.claim"]


async def test_expired_replaced_and_wrong_codes_are_refused_alike(client, factory, clock):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    device = await _device(client, admin, hardware_id="BOX-9")
    first = (await client.post(f"{BASE}/{device['id']}/claim-code", headers=admin.headers)).json()["code"]
    second = (await client.post(f"{BASE}/{device['id']}/claim-code", headers=admin.headers)).json()["code"]
    for body in (
        {"code": first, "hardware_id": "BOX-9"},  # replaced by the second
        {"code": "AAAA-BBBB-CCCC", "hardware_id": "BOX-9"},  # never issued
        {"code": second, "hardware_id": "BOX-8"},  # pre-registered for another box
    ):
        r = await client.post(f"{BASE}/claim", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "claim_code_invalid", body
    clock.advance(hours=app_rt_hours(client) + 1)
    r = await client.post(f"{BASE}/claim", json={"code": second, "hardware_id": "BOX-9"})
    assert r.status_code == 403
    fresh = {"Authorization": f"Bearer {factory.token(admin.id)}"}  # the first token ran out meanwhile
    assert (await client.get(f"{BASE}/{device['id']}", headers=fresh)).json()["status"] == "pending"


def app_rt_hours(client) -> int:
    return client.app.state.rt.settings.device_claim_hours


async def test_revoke_and_retire(client, factory, app_rt):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    device = await _device(client, leader)
    creds = (await client.post(f"{BASE}/{device['id']}/credentials", headers=leader.headers)).json()
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.post(f"{BASE}/{device['id']}/revoke", headers=official.headers)).status_code == 403
    r = await client.post(f"{BASE}/{device['id']}/revoke", headers=leader.headers)
    assert r.status_code == 200 and r.json()["revoked_credentials"] == 1
    assert await services.authenticate_device(app_rt, creds["username"], creds["password"]) is None
    again = (await client.post(f"{BASE}/{device['id']}/credentials", headers=leader.headers)).json()
    assert again["version"] == 2
    r = await client.post(f"{BASE}/{device['id']}/retire", headers=leader.headers)
    assert r.json() == {"device_id": device["id"], "revoked_credentials": 1, "status": "retired"}
    assert await services.authenticate_device(app_rt, again["username"], again["password"]) is None
    assert (
        await client.post(f"{BASE}/{device['id']}/credentials", headers=leader.headers)
    ).status_code == 409
    assert (await client.post(f"{BASE}/{device['id']}/claim-code", headers=leader.headers)).status_code == 409
    actions = {a["action"] for a in await AuditEntry.select(AuditEntry.action)}
    assert {"device.revoke", "device.retire", "device.credentials_issue"} <= actions


CSV_OK = """kind,area_code,name,hardware_id,group,latitude,longitude,codecs,firmware
cluster,38001-01,Cụm loa thôn Đông 1,HW-01,Thôn Đông,19.81,105.77,mp3 opus,1.0
cluster,38001-01,Cụm loa thôn Đông 2,HW-02,,19.82,105.78,mp3,1.0
eboard,38001,Bảng tin UBND xã,HW-03,,,,,2.1
"""


async def test_csv_import_of_a_communes_clusters(client, factory, app_rt):
    await factory.tree()
    leader, st = await station(client, factory, "38001")
    group = await client.post(
        f"/api/v1/broadcast/stations/{st['id']}/groups",
        json={"name": "Thôn Đông", "area_codes": ["38001-01"]},
        headers=leader.headers,
    )
    assert group.status_code == 201, group.text
    r = await client.post(
        f"{BASE}/import",
        params={"claim_codes": "true"},
        content=CSV_OK.encode(),
        headers={**leader.headers, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 3
    first, second, board = result["items"]
    assert first["group_id"] == group.json()["id"] and second["group_id"] == st["default_group_id"]
    assert all(i["claim_code"] for i in result["items"])
    claimed = await client.post(f"{BASE}/claim", json={"code": board["claim_code"], "hardware_id": "HW-03"})
    assert claimed.status_code == 201
    audit = await AuditEntry.select(AuditEntry.details).where(AuditEntry.action == "device.import")
    assert len(audit) == 1


async def test_csv_import_reports_every_bad_row_and_imports_nothing(client, factory):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    text = (
        "kind,area_code,name,hardware_id,group,latitude,longitude\n"
        "cluster,38001-01,ok,HW-A,,,\n"
        "toaster,38001,bad kind,HW-B,,,\n"
        "cluster,99999,unknown area,HW-C,,,\n"
        "cluster,38002,other commune,HW-D,,,\n"
        "cluster,38001,dup,HW-A,,,\n"
        "cluster,38001,half,HW-E,,19.8,\n"
        "cluster,38001,nan,HW-F,,abc,105\n"
        "cluster,38001,nogroup,HW-G,Thôn X,,\n"
    )
    r = await client.post(
        f"{BASE}/import", content=text.encode(), headers={**leader.headers, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422, r.text
    problems = [(e["row"], e["field"]) for e in r.json()["error"]["details"]]
    assert problems == [
        ("3", "kind"),
        ("4", "area_code"),
        ("5", "area_code"),
        ("6", "hardware_id"),
        ("7", "latitude"),
        ("8", "latitude"),
        ("9", "group"),
    ]
    assert await Device.count() == 0
    bad_header = await client.post(
        f"{BASE}/import",
        content=b"kind,area,colour\n",
        headers={**leader.headers, "Content-Type": "text/csv"},
    )
    assert bad_header.status_code == 400
    assert bad_header.json()["error"]["details"]["missing"] == ["area_code"]
