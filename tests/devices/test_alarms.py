"""Alarms (one open per type per device, active/cleared × acknowledged), the push to commune
officials when a cluster goes off the air, the dashboard and the map."""

from __future__ import annotations

import uuid

import msgspec

from backend.adapters.push import FakeWebPushSender
from backend.channels import staff_inbox_channel
from backend.citizen.push.tables import PushRegistration
from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.core.audit.tables import AuditEntry
from backend.core.outbox.tables import OutboxMessage
from backend.devices.health import presence
from backend.devices.tables import DeviceAlarm
from backend.devices.topics import Topics
from backend.officials.inbox.tables import StaffNotification
from tests.broadcast.support import drain
from tests.devices.support import BASE, as_device, broker_address, eventually, registered


async def test_one_open_alarm_per_type_through_its_lifecycle(client, factory, app_rt):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    d = await registered(client, leader, "38001")
    device_id = uuid.UUID(d.id)
    for _ in range(2):
        await presence.on_event(app_rt, device_id, "playback_error", True, {"code": "E42"})
    rows = await DeviceAlarm.select().where(DeviceAlarm.device_id == device_id)
    assert len(rows) == 1 and rows[0]["severity"] == "major" and rows[0]["active"]

    await presence.on_event(app_rt, device_id, "playback_error", False, {})
    listed = (await client.get(f"{BASE}/alarms", headers=leader.headers)).json()["items"]
    assert [(a["active"], a["acknowledged"]) for a in listed] == [(False, False)]  # cleared, still open
    await presence.on_event(app_rt, device_id, "playback_error", True, {})  # back before anyone looked
    again = (await client.get(f"{BASE}/alarms", headers=leader.headers)).json()["items"]
    assert len(again) == 1 and again[0]["active"] and again[0]["occurrences"] == 2

    other = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    alarm_id = again[0]["id"]
    assert (
        await client.post(f"{BASE}/alarms/{alarm_id}/acknowledge", headers=other.headers)
    ).status_code == 404
    r = await client.post(f"{BASE}/alarms/{alarm_id}/acknowledge", headers=leader.headers)
    assert r.status_code == 200 and r.json()["acknowledged"] and r.json()["active"]
    await presence.on_event(app_rt, device_id, "playback_error", False, {})  # acknowledged + cleared = closed
    assert (await client.get(f"{BASE}/alarms", headers=leader.headers)).json()["items"] == []
    history = (await client.get(f"{BASE}/alarms", params={"open": "false"}, headers=leader.headers)).json()
    assert len(history["items"]) == 1
    await presence.on_event(app_rt, device_id, "playback_error", True, {})
    fresh = (await client.get(f"{BASE}/alarms", headers=leader.headers)).json()["items"]
    assert len(fresh) == 1 and fresh[0]["id"] != alarm_id
    assert await AuditEntry.exists().where(AuditEntry.action == "device.alarm_acknowledge")


def phone(account_id: uuid.UUID) -> PushRegistration:
    return PushRegistration(
        id=uuid.uuid4(),
        account=account_id,
        kind="webpush",
        endpoint=f"https://fcm.googleapis.com/fcm/send/{account_id}",
        endpoint_key=account_id.hex * 2,
        p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        auth="tBHItJI5svbpez7KI4CCXg",
    )


async def test_commune_officials_get_a_push_when_a_cluster_goes_offline(client, factory, app_rt):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    elsewhere = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    province = await factory.user((Role.PROVINCE_APPROVER, "38"))
    await Account.update({Account.language: "en"}).where(Account.id == leader.id)
    await PushRegistration.insert(phone(official.id), phone(leader.id))
    fake = FakeWebPushSender()
    app_rt.channel_handlers["staffinbox"] = staff_inbox_channel(app_rt.settings, webpush=lambda: fake)
    cluster = await registered(client, admin, "38001-01", name="Cụm loa thôn Đông")
    board = await registered(client, admin, "38001", kind="eboard")
    for d in (cluster, board):
        await presence.touch(app_rt, uuid.UUID(d.id))
        await presence.on_offline(app_rt, uuid.UUID(d.id))
    assert await OutboxMessage.exists().where(OutboxMessage.channel == "staffinbox")
    await drain(client)
    await drain(client)  # a second round sends nothing again
    rows = await StaffNotification.select().order_by(StaffNotification.account_id)
    assert sorted(r["account_id"] for r in rows) == sorted([official.id, leader.id])
    assert all(r["device_id"] == uuid.UUID(cluster.id) for r in rows)  # not the board
    assert all(r["pushed"] == 1 for r in rows)
    # Each reads it in the language of their account, the push saying what the inbox says.
    assert len(fake.sent) == 2
    pushed = {s.target.endpoint.rsplit("/", 1)[1]: msgspec.json.decode(s.payload) for s in fake.sent}
    vi, en = pushed[str(official.id)], pushed[str(leader.id)]
    assert vi["title"] == "Mất kết nối: Cụm loa thôn Đông"
    assert vi["body"] == "Cụm loa Cụm loa thôn Đông (38001-01) không phát được. Vui lòng kiểm tra."
    assert en["title"] == "Offline: Cụm loa thôn Đông"
    assert (
        en["body"] == "The loudspeaker cluster Cụm loa thôn Đông (38001-01) is not playing. Please check it."
    )
    alarm = await DeviceAlarm.select().where(DeviceAlarm.device_id == uuid.UUID(cluster.id)).first()
    for p in (vi, en):
        assert (
            p["kind"] == "device_alarm" and p["device_id"] == cluster.id and p["alarm_id"] == str(alarm["id"])
        )
    assert all(s.options.urgency == "high" for s in fake.sent)
    inbox = (await client.get("/api/v1/staff/notifications", headers=official.headers)).json()["items"]
    assert [(i["title"], i["body"]) for i in inbox] == [(vi["title"], vi["body"])]
    assert inbox[0]["id"] == int(vi["notification_id"])
    theirs = (await client.get("/api/v1/staff/notifications", headers=leader.headers)).json()["items"]
    assert [(i["title"], i["body"]) for i in theirs] == [(en["title"], en["body"])]
    read = await client.post(f"/api/v1/staff/notifications/{inbox[0]['id']}/read", headers=official.headers)
    assert read.status_code == 200 and read.json()["read_at"]
    assert (
        await client.post(f"/api/v1/staff/notifications/{inbox[0]['id']}/read", headers=leader.headers)
    ).status_code == 404
    for user in (elsewhere, province):
        assert (await client.get("/api/v1/staff/notifications", headers=user.headers)).json()["items"] == []


async def test_dashboard_and_geojson(client, factory, app_rt):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01", latitude=19.8, longitude=105.7)
    await registered(client, admin, "38001", kind="eboard")
    c = await registered(client, admin, "38002", kind="receiver", latitude=19.9, longitude=105.8)
    await registered(client, admin, "40001")
    await presence.touch(app_rt, uuid.UUID(a.id))
    await presence.on_event(app_rt, uuid.UUID(c.id), "power", True, {"power": "battery"})
    province = await factory.user((Role.PROVINCE_APPROVER, "38"))
    board = (await client.get(f"{BASE}/dashboard", headers=province.headers)).json()
    assert board["total"] == 3
    assert {x["key"]: x["count"] for x in board["by_area"]} == {"38001": 2, "38002": 1}
    assert {x["key"]: x["count"] for x in board["by_kind"]} == {"cluster": 1, "eboard": 1, "receiver": 1}
    assert {x["key"]: x["count"] for x in board["by_state"]} == {"online": 2, "unknown": 1}
    assert board["open_alarms"] == [{"key": "warning", "count": 1}]
    only = (await client.get(f"{BASE}/dashboard", params={"area": "38002"}, headers=province.headers)).json()
    assert only["total"] == 1
    r = await client.get(f"{BASE}/map", headers=province.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    geo = r.json()
    assert geo["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in geo["features"]}
    assert set(by_id) == {a.id, c.id}
    assert by_id[a.id]["geometry"] == {"type": "Point", "coordinates": [105.7, 19.8]}
    assert by_id[c.id]["properties"]["alarm"] == "warning" and by_id[a.id]["properties"]["state"] == "online"
    citizen = await factory.user(kind="citizen")
    assert (await client.get(f"{BASE}/dashboard", headers=citizen.headers)).status_code == 403


async def test_events_over_the_broker_raise_alarms_and_bad_payloads_are_dropped(client, factory, settings):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "VN"))
    d = await registered(client, admin, "38001")
    topics = Topics.for_settings(settings)
    events = topics.device(d.id, "events")
    async with as_device(broker_address(client, settings), d) as mqtt:
        await mqtt.publish(events, b"{not json", qos=1)
        await mqtt.publish(events, msgspec.json.encode({"type": "no_such_alarm"}), qos=1)
        failed = {"schema": 1, "type": "manifest_verification_failed", "details": {"kid": "unknown"}}
        await mqtt.publish(events, msgspec.json.encode(failed), qos=1)
        alarm = await eventually(
            lambda: DeviceAlarm.select().where(DeviceAlarm.device_id == uuid.UUID(d.id)).first()
        )
    assert (alarm["type"], alarm["severity"], alarm["active"]) == (
        "manifest_verification_failed",
        "critical",
        True,
    )
    assert await DeviceAlarm.count() == 1
    assert await OutboxMessage.exists().where(
        (OutboxMessage.channel == "staffinbox") & (OutboxMessage.aggregate_id == str(alarm["id"]))
    )
