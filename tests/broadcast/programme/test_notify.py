"""The official is told: a notice the compiled programme moved to a later session, or could not
place before it expires, reaches the staff inbox of the station's commune officials and leaders —
once per notice and outcome however often the station is recompiled, and nobody else's inbox."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec
import pytest

from backend.adapters.clock import FakeClock
from backend.adapters.push import FakeWebPushSender
from backend.broadcast.programme.build import build_audio
from backend.broadcast.stations.rules import VN_TZ
from backend.channels import staff_inbox_channel
from backend.citizen.push.tables import PushRegistration
from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.officials.inbox.tables import StaffNotification
from tests.broadcast.support import BASE, drain, publish, station

INBOX = "/api/v1/staff/notifications"
LONG_BODY = " ".join(["Thông báo về việc tổ chức tiêm chủng cho trẻ em dưới năm tuổi."] * 6)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # Thursday 1 January 2026, 07:00 in Vietnam


async def small_station(client, factory) -> tuple[object, dict]:
    """An urban station whose sessions hold one minute: three long notices cannot share one."""
    leader, st = await station(client, factory, "38002", setting="urban")
    rules = {**st["rules"], "max_minutes": 1, "intro_text": "Mở đầu.", "outro_text": "Kết thúc."}
    r = await client.patch(
        f"{BASE}/stations/{st['id']}", json={"row_version": 1, "rules": rules}, headers=leader.headers
    )
    assert r.status_code == 200, r.text
    return leader, st


async def inbox(client, user) -> list[dict]:
    r = await client.get(INBOX, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def vn(moment: str) -> str:
    local = datetime.fromisoformat(moment).astimezone(VN_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def en(moment: str) -> str:
    local = datetime.fromisoformat(moment).astimezone(VN_TZ)
    return f"{local:%H:%M} on {local:%d/%m/%Y}"


async def test_moved_notices_reach_the_communes_officials_once(client, factory, app_rt, clock):
    await factory.tree()
    leader, st = await small_station(client, factory)
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    elsewhere = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    # A language Kẻng does not speak reads Vietnamese, like the leader's default.
    await Account.update({Account.language: "fr"}).where(Account.id == official.id)
    notices = [
        await publish(
            client,
            leader,
            priority="priority",
            target_areas=["38002"],
            texts={"vi": {"title": f"Tin {i}", "body": LONG_BODY}},
        )
        for i in range(3)
    ]
    await drain(client)
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=leader.headers)).json()
    by_thread = {f"n:{n['thread_id']}": n for n in notices}
    first_move: dict[str, dict] = {}
    for m in conflicts["moved"]:
        if m["key"] not in first_move or m["placed"] < first_move[m["key"]]["placed"]:
            first_move[m["key"]] = m
    assert first_move, "the one-minute sessions move some notices"

    for user in (leader, official):
        items = [i for i in await inbox(client, user) if i["kind"] == "notice_moved"]
        assert len(items) == len(first_move)
        for key, move in first_move.items():
            notice = by_thread[key]
            [item] = [i for i in items if i["notice_id"] == notice["id"]]
            assert item["station_id"] == st["id"]
            assert datetime.fromisoformat(item["session_at"]) == datetime.fromisoformat(move["placed"])
            assert item["title"] == f"Bản tin dời sang buổi phát sau: {notice['texts']['vi']['title']}"
            assert f"“{notice['texts']['vi']['title']}”" in item["body"]
            assert f"đã dời sang buổi phát {vn(move['placed'])}" in item["body"]
            assert vn(move["wanted"]) in item["body"] and st["name"] in item["body"]
            assert item["read_at"] is None and item["device_id"] is None and item["alarm_id"] is None
    # Another commune's official hears nothing of it.
    assert await inbox(client, elsewhere) == []

    # Recompiling the same programme (the daily refresh, any change) tells nobody again.
    before = await StaffNotification.count()
    await build_audio(app_rt, uuid.UUID(st["id"]))
    await build_audio(app_rt, uuid.UUID(st["id"]))
    r = await client.patch(
        f"{BASE}/groups/{st['default_group_id']}",
        json={"row_version": 1, "near_border": True},
        headers=leader.headers,
    )
    assert r.status_code == 200, r.text
    await drain(client)
    assert await StaffNotification.count() == before

    # Reading one marks only that one.
    mine = await inbox(client, official)
    r = await client.post(f"{INBOX}/{mine[0]['id']}/read", headers=official.headers)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert r.json()["kind"] == "notice_moved"
    r = await client.get(INBOX, params={"unread": "true"}, headers=official.headers)
    assert len(r.json()["items"]) == len(mine) - 1
    r = await client.post(f"{INBOX}/{mine[0]['id']}/read", headers=elsewhere.headers)
    assert r.status_code == 404


async def test_a_notice_that_cannot_play_before_it_expires_is_flagged_to_the_officials(
    client, factory, app_rt, clock
):
    await factory.tree()
    leader, st = await station(client, factory, "38002")
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    elsewhere = await factory.user((Role.COMMUNE_LEADER, "38001"))
    await Account.update({Account.language: "en"}).where(Account.id == leader.id)
    for user in (official, elsewhere):
        await PushRegistration.insert(
            PushRegistration(
                id=uuid.uuid4(),
                account=user.id,
                kind="webpush",
                endpoint=f"https://fcm.googleapis.com/fcm/send/{user.id}",
                endpoint_key=user.id.hex * 2,
                p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                auth="tBHItJI5svbpez7KI4CCXg",
            )
        )
    fake = FakeWebPushSender()
    app_rt.channel_handlers["staffinbox"] = staff_inbox_channel(app_rt.settings, webpush=lambda: fake)
    until = clock.now() + timedelta(hours=2)  # 09:00 in Vietnam; the first session is at 17:00
    notice = await publish(
        client,
        leader,
        priority="priority",
        target_areas=["38002"],
        valid_until=until.isoformat(),
        texts={"vi": {"title": "Cắt nước sáng nay", "body": "Cắt nước từ 8 giờ đến 9 giờ sáng nay."}},
    )
    await drain(client)
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=leader.headers)).json()
    assert [u["reason"] for u in conflicts["unplaced"]] == ["no_session_before_expiry"]

    for user in (leader, official):
        [item] = await inbox(client, user)
        assert item["kind"] == "notice_unplaced" and item["notice_id"] == notice["id"]
        assert item["station_id"] == st["id"] and item["session_at"] is None
    # Each in the language of their account: the leader reads English, the official Vietnamese.
    [item] = await inbox(client, official)
    assert item["title"] == "Bản tin chưa xếp được vào buổi phát: Cắt nước sáng nay"
    assert item["body"] == (
        f"{st['name']} không có buổi phát nào trước khi bản tin “Cắt nước sáng nay” hết hiệu lực "
        f"({vn(until.isoformat())}); bản tin chưa được xếp lịch phát."
    )
    [item] = await inbox(client, leader)
    assert item["title"] == "Notice could not be placed in a session: Cắt nước sáng nay"
    assert item["body"] == (
        f"{st['name']} has no session before “Cắt nước sáng nay” expires ({en(until.isoformat())}); "
        "it is not scheduled."
    )
    assert await inbox(client, elsewhere) == []
    # The official's phone is told too (the leader registered none), once.
    [sent] = fake.sent
    assert sent.target.endpoint.endswith(str(official.id))
    pushed = msgspec.json.decode(sent.payload)
    assert pushed["kind"] == "notice_unplaced" and pushed["notice_id"] == notice["id"]
    assert pushed["title"] == "Bản tin chưa xếp được vào buổi phát: Cắt nước sáng nay"

    before = await StaffNotification.count()
    await build_audio(app_rt, uuid.UUID(st["id"]))
    await drain(client)
    assert await StaffNotification.count() == before and len(fake.sent) == 1

    # An update is a new version: its own outcome is news once more.
    r = await client.post(
        f"/api/v1/notices/{notice['id']}/versions",
        json={"msg_type": "update", "reason": "đổi giờ"},
        headers=leader.headers,
    )
    update = r.json()
    for step in ("submit", "approve", "publish"):
        r = await client.post(f"/api/v1/notices/{update['id']}/{step}", json={}, headers=leader.headers)
        assert r.status_code == 200, r.text
    await drain(client)
    items = await inbox(client, official)
    assert [i["notice_id"] for i in items] == [update["id"], notice["id"]]
