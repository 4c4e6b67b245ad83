"""Stations and groups over HTTP: who may create and edit them, rule validation, versions, audit."""

from __future__ import annotations

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.core.outbox.tables import OutboxMessage

BASE = "/api/v1/broadcast"


async def test_a_leader_creates_a_station_with_default_group_and_schedule(client, factory):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    elsewhere = await factory.user((Role.COMMUNE_LEADER, "38002"))

    r = await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=official.headers)
    assert r.status_code == 403, r.text
    r = await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=elsewhere.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "out_of_area"

    r = await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=leader.headers)
    assert r.status_code == 201, r.text
    station = r.json()
    assert station["name"] == "Đài truyền thanh Xã Hoằng Hóa"
    assert station["max_minutes"] == 45 and station["rules"]["days"] == [0, 1, 2, 3, 4]
    assert station["rules"]["windows"] == [
        {"start": "05:30", "end": "06:15"},
        {"start": "17:00", "end": "17:45"},
    ]

    groups = (await client.get(f"{BASE}/stations/{station['id']}/groups", headers=official.headers)).json()
    assert [(g["is_default"], g["area_codes"]) for g in groups["items"]] == [(True, ["38001"])]
    assert groups["items"][0]["id"] == station["default_group_id"]

    r = await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=leader.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate"
    r = await client.post(f"{BASE}/stations", json={"area_code": "38001-01"}, headers=leader.headers)
    assert r.status_code == 422

    # Reading: the commune's official sees it, another commune's leader does not.
    assert (await client.get(f"{BASE}/stations/{station['id']}", headers=official.headers)).status_code == 200
    assert (
        await client.get(f"{BASE}/stations/{station['id']}", headers=elsewhere.headers)
    ).status_code == 404
    listed = (await client.get(f"{BASE}/stations", headers=elsewhere.headers)).json()
    assert listed["items"] == []
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.target_id == station["id"])
    assert [a["action"] for a in actions] == ["station.create"]


async def test_rules_are_validated_and_edits_are_versioned(client, factory):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38002"))
    bad = {
        "area_code": "38002",
        "setting": "urban",
        "rules": {
            "windows": [{"start": "20:30", "end": "21:30"}, {"start": "06:00", "end": "05:00"}],
            "days": [0, 6],
        },
    }
    r = await client.post(f"{BASE}/stations", json=bad, headers={**leader.headers, "Accept-Language": "en"})
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["message"] == "The request is not valid."
    reasons = {(d["field"], d["reason"]) for d in body["details"]}
    assert ("rules.windows[0]", "overlaps the quiet hours") in reasons
    assert ("rules.windows[1]", "a session window must end after it starts") in reasons
    assert ("rules.days", "weekend days need weekend_allowed (special cases only)") in reasons

    r = await client.post(
        f"{BASE}/stations", json={"area_code": "38002", "setting": "urban"}, headers=leader.headers
    )
    station = r.json()
    assert station["max_minutes"] == 15
    rules = {
        **station["rules"],
        "days": [0, 1, 2, 3, 4, 5],
        "weekend_allowed": True,
        "max_minutes": 12,
        "neighbours": ["38001"],
        "voice": "vi-vn-x-central",
        "relays": [{"name": "VOV1", "url": "https://stream.example.vn/vov1", "minutes": 5}],
    }
    r = await client.patch(
        f"{BASE}/stations/{station['id']}", json={"row_version": 1, "rules": rules}, headers=leader.headers
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["max_minutes"], edited["rules_version"], edited["row_version"]) == (12, 2, 2)
    assert edited["rules"]["voice"] == "vi-vn-x-central"
    # The same stale edit again is refused and changes nothing.
    r = await client.patch(
        f"{BASE}/stations/{station['id']}", json={"row_version": 1, "name": "X"}, headers=leader.headers
    )
    assert r.status_code == 409 and r.json()["error"]["details"] == {"row_version": 2}
    r = await client.patch(
        f"{BASE}/stations/{station['id']}",
        json={"row_version": 2, "rules": {**rules, "neighbours": ["38002"]}},
        headers=leader.headers,
    )
    assert r.status_code == 422
    # The worker is asked to rebuild the station's manifests on both device channels.
    rows = await OutboxMessage.select(OutboxMessage.channel).where(
        (OutboxMessage.event == "station_changed") & (OutboxMessage.aggregate_id == station["id"])
    )
    assert sorted(r["channel"] for r in rows) == ["eboard", "mqtt"]


async def test_groups_stay_inside_the_commune_and_the_default_group_stays(client, factory):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    station = (
        await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=leader.headers)
    ).json()
    url = f"{BASE}/stations/{station['id']}/groups"

    r = await client.post(
        url, json={"name": "Thôn Đông", "area_codes": ["38001-01", "38002"]}, headers=leader.headers
    )
    assert r.status_code == 422 and "outside" in r.json()["error"]["details"][0]["reason"]
    r = await client.post(
        url,
        json={
            "name": "Thôn Đông",
            "area_codes": ["38001-01"],
            "near_border": True,
            "eboard": {"resolutions": [{"width": 192, "height": 64}]},
        },
        headers=leader.headers,
    )
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["near_border"] and group["eboard"]["resolutions"] == [{"width": 192, "height": 64}]

    r = await client.patch(
        f"{BASE}/groups/{group['id']}",
        json={"row_version": 1, "area_codes": ["38001-01", "38001-02"]},
        headers=leader.headers,
    )
    assert r.status_code == 200 and r.json()["area_codes"] == ["38001-01", "38001-02"]
    r = await client.patch(
        f"{BASE}/groups/{station['default_group_id']}",
        json={"row_version": 1, "area_codes": ["38001-01"]},
        headers=leader.headers,
    )
    assert r.status_code == 422
    r = await client.delete(f"{BASE}/groups/{station['default_group_id']}", headers=leader.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "default_group"
    assert (await client.delete(f"{BASE}/groups/{group['id']}", headers=leader.headers)).status_code == 204
    groups = (await client.get(url, headers=leader.headers)).json()["items"]
    assert [g["id"] for g in groups] == [station["default_group_id"]]
    actions = (
        await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.target_id == group["id"])
        .order_by(AuditEntry.id)
    )
    assert [a["action"] for a in actions] == [
        "station.group_create",
        "station.group_edit",
        "station.group_delete",
    ]
