"""Published notices become CAP 1.2 messages: valid against the OASIS schema, mapped from the notice,
with updates, cancellations and withdrawals referring to the earlier messages of the thread, and
exactly one message per notice event however often the outbox row runs.

Time is a FakeClock so ``sent`` and ``expires`` are exact."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from backend.adapters.clock import FakeClock
from backend.broadcast.cap import cap_channel_handler, mapping
from backend.broadcast.cap.render import cap_time
from backend.core.accounts.permissions import Role
from backend.core.outbox.services import ClaimedMessage
from backend.core.outbox.tables import OutboxMessage
from tests.broadcast.cap.support import (
    CAP_TIME,
    NS,
    act,
    cap_times,
    create,
    drain,
    fetch_alert,
    messages,
    new_version,
    parse_valid,
    publish,
    text,
    texts,
)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SENDER = "keng@tinh38.local"
AUDIO = {
    "kind": "audio",
    "mime_type": "audio/mpeg",
    "size": 48213,
    "sha256": "a" * 64,
    "name": "Bản tin phát thanh",
    "url": "https://media.example.vn/ban-tin.mp3",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _people(factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    return author, leader


def test_cap_time_is_utc_as_minus_zero_whole_seconds():
    assert cap_time(datetime(2026, 3, 2, 8, 0, 5, 123456, tzinfo=timezone(timedelta(hours=7)))) == (
        "2026-03-02T01:00:05-00:00"
    )
    with pytest.raises(ValueError):
        cap_time(datetime(2026, 3, 2, 8, 0))


def test_sender_must_be_free_of_spaces_and_commas():
    assert mapping.check_sender("keng@tinh38.local") == "keng@tinh38.local"
    for bad in ("", "keng tinh", "a,b", "a<b"):
        with pytest.raises(ValueError):
            mapping.check_sender(bad)


async def test_published_notice_is_a_valid_cap_alert(client, factory, app_rt):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    approver = await factory.user((Role.PROVINCE_APPROVER, "38"))
    notice = await publish(
        client,
        editor,
        approver,
        target_areas=["38001-01", "38002"],
        attachments=[AUDIO],
        texts={
            "vi": {"title": "Tiêm chủng", "body": "Tiêm chủng cho trẻ em sáng thứ Bảy & Chủ nhật <8 giờ>."},
            "en": {"title": "Vaccination", "body": "Vaccination for children on Saturday morning."},
        },
    )

    assert await drain(app_rt) == 1
    rows = await messages()
    assert len(rows) == 1
    row = rows[0]
    assert row["identifier"] == f"keng-vn-38-{notice['id']}"
    assert row["msg_type"] == "Alert"
    assert row["outbox_id"] is not None

    root = await fetch_alert(client, row["identifier"])
    assert text(root, "cap:identifier") == row["identifier"]
    assert text(root, "cap:sender") == SENDER
    assert text(root, "cap:sent") == "2026-03-02T01:00:00-00:00"
    assert (text(root, "cap:status"), text(root, "cap:msgType"), text(root, "cap:scope")) == (
        "Actual",
        "Alert",
        "Public",
    )
    assert root.find("cap:references", NS) is None
    infos = root.findall("cap:info", NS)
    assert [text(i, "cap:language") for i in infos] == ["vi-VN", "en"]
    vi, en = infos
    assert texts(vi, "cap:category") == ["Health"]
    assert text(vi, "cap:event") == "Y tế, dịch bệnh"
    assert text(en, "cap:event") == "Health and epidemics"
    assert [text(vi, f"cap:{k}") for k in ("urgency", "severity", "certainty")] == [
        "Future",
        "Minor",
        "Likely",
    ]
    assert text(vi, "cap:headline") == "Tiêm chủng"
    assert text(vi, "cap:description") == "Tiêm chủng cho trẻ em sáng thứ Bảy & Chủ nhật <8 giờ>."
    assert text(en, "cap:headline") == "Vaccination"
    assert text(vi, "cap:senderName") == "Hệ thống thông tin nguồn tỉnh Thanh Hóa"
    # No end of validity: the configured default of 72 hours after sending.
    assert text(vi, "cap:expires") == "2026-03-05T01:00:00-00:00"
    assert vi.find("cap:effective", NS) is None
    areas = vi.findall("cap:area", NS)
    assert [text(a, "cap:areaDesc") for a in areas] == [
        "Thôn Đông, Xã Hoằng Hóa, Thanh Hóa",
        "Phường Hạc Thành, Thanh Hóa",
    ]
    assert [(text(a, "cap:geocode/cap:valueName"), text(a, "cap:geocode/cap:value")) for a in areas] == [
        ("VN-ADMIN-CODE", "38001-01"),
        ("VN-ADMIN-CODE", "38002"),
    ]
    resource = vi.find("cap:resource", NS)
    assert text(resource, "cap:resourceDesc") == "Bản tin phát thanh"
    assert text(resource, "cap:mimeType") == "audio/mpeg"
    assert text(resource, "cap:size") == "48213"
    assert text(resource, "cap:uri") == AUDIO["url"]
    assert resource.find("cap:digest", NS) is None, "CAP's digest is SHA-1; Kẻng keeps only SHA-256"
    for value in cap_times(root):
        assert CAP_TIME.match(value), value
        assert not value.endswith("Z") and "." not in value


def _reference(row) -> str:
    return f"{row['sender']},{row['identifier']},{cap_time(row['sent'])}"


async def test_update_and_cancel_refer_to_the_earlier_messages(client, factory, app_rt, clock):
    author, leader = await _people(factory)
    first = await publish(client, author, leader, valid_until=(START + timedelta(days=2)).isoformat())
    await drain(app_rt)
    clock.advance(minutes=5)
    update = await new_version(
        client,
        author,
        leader,
        first["id"],
        msg_type="update",
        texts={"vi": {"title": "Đổi giờ", "body": "14 giờ."}},
    )
    await drain(app_rt)
    clock.advance(minutes=5)
    cancel = await new_version(client, author, leader, update["id"], msg_type="cancel", reason="Hoãn tiêm")
    await drain(app_rt)

    alert, updated, cancelled = await messages()
    assert [m["notice_id"] for m in (alert, updated, cancelled)] == [
        uuid.UUID(n["id"]) for n in (first, update, cancel)
    ]
    assert [m["msg_type"] for m in (alert, updated, cancelled)] == ["Alert", "Update", "Cancel"]
    assert len({m["identifier"] for m in (alert, updated, cancelled)}) == 3

    root = await fetch_alert(client, updated["identifier"])
    assert text(root, "cap:msgType") == "Update"
    assert text(root, "cap:sent") == "2026-03-02T01:05:00-00:00"
    assert text(root, "cap:references") == _reference(alert)
    assert text(root, "cap:info/cap:headline") == "Đổi giờ"
    assert text(root, "cap:info/cap:expires") == "2026-03-04T01:00:00-00:00"

    root = await fetch_alert(client, cancelled["identifier"])
    assert text(root, "cap:msgType") == "Cancel"
    assert text(root, "cap:references").split(" ") == [_reference(alert), _reference(updated)]
    assert text(root, "cap:note") == "Hoãn tiêm"
    assert text(root, "cap:info/cap:urgency") == "Past"
    for value in cap_times(root):
        assert CAP_TIME.match(value), value


async def test_withdrawal_is_a_cancel_referring_to_the_alert(client, factory, app_rt, clock):
    author, leader = await _people(factory)
    notice = await publish(client, author, leader, priority="priority")
    await drain(app_rt)
    clock.advance(minutes=5)
    await act(client, leader, notice["id"], "withdraw", reason="Thông tin chưa chính xác")
    await drain(app_rt)

    alert, withdrawn = await messages()
    assert withdrawn["identifier"] == f"{alert['identifier']}-withdrawn"
    root = await fetch_alert(client, withdrawn["identifier"])
    assert text(root, "cap:msgType") == "Cancel"
    assert text(root, "cap:sent") == "2026-03-02T01:05:00-00:00"
    assert text(root, "cap:references") == _reference(alert)
    assert "Thông tin chưa chính xác" in text(root, "cap:note")
    assert [text(root, f"cap:info/cap:{k}") for k in ("urgency", "severity", "certainty")] == [
        "Past",
        "Moderate",
        "Likely",
    ]


async def test_a_retried_outbox_row_writes_no_second_message(client, factory, app_rt):
    author, leader = await _people(factory)
    await publish(client, author, leader)
    assert await drain(app_rt) == 1
    (first,) = await messages()

    # The worker delivered, then lost its lease before marking the row done: the row runs again.
    row = await OutboxMessage.select().where(OutboxMessage.id == first["outbox_id"]).first()
    await OutboxMessage.update({OutboxMessage.status: "pending", OutboxMessage.done_at: None}).where(
        OutboxMessage.id == row["id"]
    )
    assert await drain(app_rt) == 1
    # And a handler called twice with the very same claim.
    claim = ClaimedMessage(
        id=row["id"],
        channel="cap",
        event=row["event"],
        aggregate_id=row["aggregate_id"],
        payload=row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"]),
        attempts=3,
    )
    await cap_channel_handler(app_rt, claim)
    await cap_channel_handler(app_rt, claim)

    rows = await messages()
    assert len(rows) == 1
    assert (rows[0]["identifier"], rows[0]["xml"]) == (first["identifier"], first["xml"])
    status = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.channel == "cap")
    assert [s["status"] for s in status] == ["done"]


async def test_an_update_waits_for_the_message_it_refers_to(client, factory, app_rt, clock):
    author, leader = await _people(factory)
    first = await publish(client, author, leader)
    # The first message's delivery failed and is due again only in ten minutes.
    await OutboxMessage.update({OutboxMessage.available_at: START + timedelta(minutes=10)}).where(
        (OutboxMessage.channel == "cap") & (OutboxMessage.aggregate_id == first["id"])
    )
    update = await new_version(client, author, leader, first["id"], msg_type="update")

    assert await drain(app_rt) == 1, "only the update was due, and it must wait"
    assert await messages() == []
    waiting = await (
        OutboxMessage.select()
        .where((OutboxMessage.channel == "cap") & (OutboxMessage.aggregate_id == update["id"]))
        .first()
    )
    assert waiting["status"] == "pending"
    assert waiting["available_at"] > START + timedelta(minutes=10)

    clock.advance(minutes=15)
    assert await drain(app_rt) == 2
    alert, updated = await messages()
    assert (alert["msg_type"], updated["msg_type"]) == ("Alert", "Update")
    assert updated["references_text"] == _reference(alert)


async def test_emergency_mapping_and_one_info_per_language(client, factory, app_rt):
    author, leader = await _people(factory)
    notice = await create(
        client,
        author,
        category="disaster",
        priority="emergency",
        valid_from=(START + timedelta(minutes=5)).isoformat(),
        valid_until=(START + timedelta(hours=6)).astimezone(timezone(timedelta(hours=7))).isoformat(),
        texts={
            "vi": {"title": "Lũ quét", "body": "Sơ tán ngay khỏi khu vực ven suối."},
            "en": {"title": "Flash flood", "body": "Evacuate the stream banks now."},
            "tay": {"title": "Nặm lẹo", "body": "Pây hâng khỏi tà."},
        },
    )
    await act(client, leader, notice["id"], "emergency-publish")
    await drain(app_rt)

    (row,) = await messages()
    root = await fetch_alert(client, row["identifier"])
    infos = root.findall("cap:info", NS)
    assert [text(i, "cap:language") for i in infos] == ["vi-VN", "en", "tay"]
    assert [text(i, "cap:headline") for i in infos] == ["Lũ quét", "Flash flood", "Nặm lẹo"]
    for info in infos:
        assert texts(info, "cap:category") == ["Met", "Geo", "Safety"]
        assert [text(info, f"cap:{k}") for k in ("urgency", "severity", "certainty")] == [
            "Immediate",
            "Severe",
            "Observed",
        ]
        assert text(info, "cap:effective") == "2026-03-02T01:05:00-00:00"
        assert text(info, "cap:expires") == "2026-03-02T07:00:00-00:00"
        assert text(info, "cap:area/cap:areaDesc") == "Xã Hoằng Hóa, Thanh Hóa"
    assert text(infos[0], "cap:event") == "Thiên tai, thảm họa, tình huống khẩn cấp"
    assert text(infos[1], "cap:event") == "Disasters and emergencies"


@pytest.mark.parametrize(
    ("category", "expected"),
    [("health", ["Health"]), ("security", ["Security"]), ("agriculture", ["Met"]), ("elections", ["Other"])],
)
async def test_category_mapping(client, factory, app_rt, category, expected):
    author, leader = await _people(factory)
    await publish(client, author, leader, category=category)
    await drain(app_rt)
    (row,) = await messages()
    root = parse_valid(row["xml"])
    assert texts(root, "cap:info/cap:category") == expected


async def test_unknown_or_malformed_message_names_are_not_found(client, factory):
    for path in ("/cap/alerts/keng-vn-38-nothing.xml", "/cap/alerts/keng-vn-38-nothing", "/cap/alerts/.xml"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_message_is_cached_and_revalidated_by_etag(client, factory, app_rt):
    author, leader = await _people(factory)
    await publish(client, author, leader)
    await drain(app_rt)
    (row,) = await messages()
    response = await client.get(f"/cap/alerts/{row['identifier']}.xml")
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["last-modified"] == "Mon, 02 Mar 2026 01:00:00 GMT"
    etag = response.headers["etag"]
    again = await client.get(f"/cap/alerts/{row['identifier']}.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    parsed = etree.fromstring(response.content)
    assert etree.QName(parsed).localname == "alert"
