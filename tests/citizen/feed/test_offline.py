"""The feed offline: ETag / 304, the ``since`` cursor after withdrawals, updates and expiry, and
read receipts counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.feed import services as feed_services
from backend.citizen.feed.tables import ReadReceipt
from backend.core.accounts.permissions import Actor
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import NoticeIn
from tests.citizen.feed.support import (
    FEED,
    NOTICES,
    changes,
    citizen,
    citizen_with_id,
    feed,
    province_staff,
    publish,
    texts,
    titles,
    update,
    withdraw,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


async def test_unchanged_feed_costs_a_304(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    nghe_an = await province_staff(factory, "40")
    first = await publish(app_rt, staff, "Tin một", ["38001"])
    headers = await citizen(client, ["38001"])

    response = await client.get(FEED, headers=headers)
    tag = response.headers["etag"]
    assert tag.startswith('W/"') and response.headers["cache-control"] == "private, no-cache"
    again = await client.get(FEED, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag

    # Work elsewhere (another province, a draft there) leaves this feed alone.
    await publish(app_rt, nghe_an, "Nghệ An", ["40001"])
    assert (await client.get(FEED, headers={**headers, "If-None-Match": tag})).status_code == 304

    # Another language, page size or page is another representation.
    for params in ({"lang": "en"}, {"limit": 5}):
        other = await client.get(FEED, params=params, headers={**headers, "If-None-Match": tag})
        assert other.status_code == 200 and other.headers["etag"] != tag

    # A withdrawal changes the feed, so the old tag no longer matches.
    await withdraw(app_rt, staff, first.id)
    changed = await client.get(FEED, headers={**headers, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["items"] == []
    tag2 = changed.headers["etag"]
    assert tag2 != tag

    # So does a new publication, and so does changing what the citizen follows.
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Tin hai", ["38"])
    published = await client.get(FEED, headers={**headers, "If-None-Match": tag2})
    assert published.status_code == 200 and titles(published.json()) == ["Tin hai"]
    tag3 = published.headers["etag"]
    await client.put(
        "/api/v1/citizen/subscriptions",
        json={"areas": ["38001"], "categories": ["elections"]},
        headers=headers,
    )
    refiltered = await client.get(FEED, headers={**headers, "If-None-Match": tag3})
    assert refiltered.status_code == 200 and refiltered.json()["items"] == []


async def test_expiry_changes_the_feed_and_its_etag_before_the_sweep(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    short = await publish(
        app_rt, staff, "Ngắn hạn", ["38001"], valid_until=clock.now() + timedelta(minutes=5)
    )
    await publish(app_rt, staff, "Dài hạn", ["38001"], valid_until=clock.now() + timedelta(days=5))
    headers = await citizen(client, ["38001"])
    first = await client.get(FEED, headers=headers)
    assert sorted(titles(first.json())) == ["Dài hạn", "Ngắn hạn"]
    cursor = first.json()["changes_cursor"]

    clock.advance(minutes=6)
    # Not swept yet (status still "published"), but already out of the feed and of its ETag.
    assert (
        await app_rt.db.fetchval('SELECT "status" FROM "notice" WHERE "id" = {}', short.id)
    ) == "published"
    after = await client.get(FEED, headers={**headers, "If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and titles(after.json()) == ["Dài hạn"]
    assert (await client.get(f"{NOTICES}/{short.id}", headers=headers)).status_code == 404

    assert await flows.expire_due(app_rt) == 1
    delta = await changes(client, headers, cursor)
    assert delta["items"] == [] and delta["reset"] is False
    assert [(r["id"], r["status"]) for r in delta["removed"]] == [(str(short.id), "expired")]
    assert delta["removed"][0]["ended_at"] == "2026-03-02T01:06:00Z"


async def test_since_cursor_brings_withdrawals_updates_and_new_notices(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    nghe_an = await province_staff(factory, "40")
    gone = await publish(app_rt, staff, "Sẽ bị thu hồi", ["38001"])
    old = await publish(app_rt, staff, "Bản cũ", ["38"])
    kept = await publish(app_rt, staff, "Giữ nguyên", ["38001-01"])
    headers = await citizen(client, ["38001"])
    start = await feed(client, headers)
    assert len(start["items"]) == 3
    cursor = start["changes_cursor"]

    nothing = await changes(client, headers, cursor)
    assert nothing == {"items": [], "removed": [], "cursor": nothing["cursor"], "more": False, "reset": False}

    clock.advance(minutes=1)
    await withdraw(app_rt, staff, gone.id)
    new = await update(app_rt, staff, old.id, "Bản mới")
    fresh = await publish(app_rt, staff, "Tin mới", ["38001-02"])
    await publish(app_rt, nghe_an, "Nghệ An", ["40001"])
    await publish(app_rt, staff, "Phường khác", ["38002"])
    await notices.create(
        app_rt,
        staff.author,
        NoticeIn(category="health", priority="normal", target_areas=["38001"], texts=texts("Nháp")),
    )

    delta = await changes(client, headers, cursor)
    assert delta["more"] is False and delta["reset"] is False
    assert sorted(i["title"] for i in delta["items"]) == ["Bản mới", "Tin mới"]
    by_id = {i["id"]: i for i in delta["items"]}
    assert by_id[str(new.id)]["references_id"] == str(old.id)
    assert by_id[str(new.id)]["msg_type"] == "update" and by_id[str(new.id)]["version"] == 2
    assert str(fresh.id) in by_id
    assert sorted((r["id"], r["status"]) for r in delta["removed"]) == sorted(
        [(str(gone.id), "withdrawn"), (str(old.id), "superseded")]
    )
    assert str(kept.id) not in by_id

    # Applying the delta to what the phone had gives what the feed now holds.
    phone = {i["id"]: i for i in start["items"]}
    for r in delta["removed"]:
        phone.pop(r["id"], None)
    phone.update(by_id)
    now = await feed(client, headers)
    assert sorted(phone) == sorted(i["id"] for i in now["items"])

    # The new cursor has seen it all, and the feed's own cursor agrees.
    assert (await changes(client, headers, delta["cursor"]))["items"] == []
    assert (await changes(client, headers, now["changes_cursor"]))["removed"] == []


async def test_since_cursor_pages_through_many_changes(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    headers, account = await citizen_with_id(client, ["38001"])
    cursor = (await feed(client, headers))["changes_cursor"]
    published = [await publish(app_rt, staff, f"Tin {i}", ["38001"]) for i in range(4)]
    await withdraw(app_rt, staff, published[0].id)

    view = feed_services.FeedView(scope=await feed_services.followed(app_rt, account), language="vi")
    seen_items, seen_removed, calls = set(), set(), 0
    while True:
        calls += 1
        delta = await feed_services.changes(app_rt, view, cursor, limit=3)
        seen_items |= {i.id for i in delta.items}
        seen_removed |= {r.id for r in delta.removed}
        cursor = delta.cursor
        if not delta.more:
            break
    assert calls > 2
    assert seen_items == {n.id for n in published[1:]}
    assert published[0].id in seen_removed
    final = await feed_services.changes(app_rt, view, cursor)
    assert final.items == [] and final.removed == [] and not final.more


async def test_since_cursor_resets_when_subscriptions_change(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    await publish(app_rt, staff, "Xã Hoằng Hóa", ["38001"])
    headers = await citizen(client, ["38001"])
    cursor = (await feed(client, headers))["changes_cursor"]
    await client.put("/api/v1/citizen/subscriptions", json={"areas": ["38002"]}, headers=headers)
    delta = await changes(client, headers, cursor)
    assert delta["reset"] is True and delta["items"] == [] and delta["removed"] == []
    assert (await changes(client, headers, (await feed(client, headers))["changes_cursor"]))["reset"] is False
    for bad in ("garbage", "eyJ4IjoxfQ"):
        response = await client.get(f"{FEED}/changes", params={"since": bad}, headers=headers)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_cursor"
    missing = await client.get(f"{FEED}/changes", headers=headers)
    assert missing.status_code == 400


async def test_opened_is_recorded_once(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    notice = await publish(app_rt, staff, "Xã Hoằng Hóa", ["38001"])
    other = await publish(app_rt, staff, "Phường khác", ["38002"])
    headers, account = await citizen_with_id(client, ["38001"])

    first = await client.post(f"{NOTICES}/{notice.id}/opened", headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"notice_id": str(notice.id), "opened_at": "2026-03-02T01:00:00Z", "first": True}
    clock.advance(minutes=3)
    again = await client.post(f"{NOTICES}/{notice.id}/opened", headers=headers)
    assert again.status_code == 200
    assert again.json() == {"notice_id": str(notice.id), "opened_at": "2026-03-02T01:00:00Z", "first": False}
    rows = await ReadReceipt.select().where(ReadReceipt.notice == notice.id)
    assert len(rows) == 1 and rows[0]["account"] == account

    # Not in this citizen's areas: refused, nothing recorded.
    refused = await client.post(f"{NOTICES}/{other.id}/opened", headers=headers)
    assert refused.status_code == 404
    assert await ReadReceipt.count().where(ReadReceipt.notice == other.id) == 0

    # An open reported late, after the notice was withdrawn, still counts.
    late = await publish(app_rt, staff, "Đọc khi mất sóng", ["38"])
    await withdraw(app_rt, staff, late.id)
    counted = await client.post(f"{NOTICES}/{late.id}/opened", headers=headers)
    assert counted.status_code == 200 and counted.json()["first"] is True

    # A draft was never delivered, so it cannot have been opened.
    draft = await notices.create(
        app_rt,
        staff.author,
        NoticeIn(category="health", priority="normal", target_areas=["38001"], texts=texts("Nháp")),
    )
    assert (await client.post(f"{NOTICES}/{draft.id}/opened", headers=headers)).status_code == 404
    assert await ReadReceipt.count() == 2


async def test_service_refuses_non_citizens(app_rt, factory):
    with pytest.raises(Exception) as excinfo:
        await feed_services.view(app_rt, Actor.system("test"), None)
    assert getattr(excinfo.value, "code", None) == "citizens_only"
