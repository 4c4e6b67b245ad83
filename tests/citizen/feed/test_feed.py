"""The citizen's feed: which notices, in which order and language, for whom; pages and compression."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.feed import services as feed_services
from backend.citizen.subscriptions import services as subscriptions
from backend.core.accounts.permissions import Role
from backend.core.notices import services as notices
from backend.core.notices.schemas import NoticeIn
from tests.citizen.feed.support import (
    FEED,
    NOTICES,
    citizen,
    citizen_with_id,
    feed,
    province_staff,
    publish,
    staff_actor,
    texts,
    titles,
    withdraw,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


async def test_feed_holds_followed_areas_their_ancestors_and_what_lies_inside(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    nghe_an = await province_staff(factory, "40")
    await publish(app_rt, staff, "Toàn tỉnh", ["38"])
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Xã Hoằng Hóa", ["38001"])
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Thôn Đông", ["38001-01"])
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Phường khác", ["38002"])
    clock.advance(minutes=1)
    await publish(app_rt, nghe_an, "Tỉnh khác", ["40"])
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Nhiều địa bàn", ["38002", "38001-02"])
    clock.advance(minutes=1)
    # A draft in the followed commune is nobody's business yet.
    await notices.create(
        app_rt,
        staff.author,
        NoticeIn(category="health", priority="normal", target_areas=["38001"], texts=texts("Nháp")),
    )

    commune = await citizen(client, ["38001"])
    assert titles(await feed(client, commune)) == ["Nhiều địa bàn", "Thôn Đông", "Xã Hoằng Hóa", "Toàn tỉnh"]

    village = await citizen(client, ["38001-02"])
    assert titles(await feed(client, village)) == ["Nhiều địa bàn", "Xã Hoằng Hóa", "Toàn tỉnh"]

    two_homes = await citizen(client, ["38001-01", "40001"])
    assert titles(await feed(client, two_homes)) == ["Tỉnh khác", "Thôn Đông", "Xã Hoằng Hóa", "Toàn tỉnh"]

    nobody = await citizen(client, [])
    page = await feed(client, nobody)
    assert page["items"] == [] and page["next_cursor"] is None


async def test_items_are_compact_and_complete(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    until = datetime(2026, 3, 9, tzinfo=UTC)
    published = await publish(app_rt, staff, "Lịch tiêm chủng", ["38001"], valid_until=until)
    headers = await citizen(client, ["38001"])
    [item] = (await feed(client, headers))["items"]
    assert item == {
        "id": str(published.id),
        "thread_id": str(published.thread_id),
        "version": 1,
        "msg_type": "alert",
        "status": "published",
        "category": "health",
        "priority": "normal",
        "lang": "vi",
        "title": "Lịch tiêm chủng",
        "summary": "Tóm tắt: Lịch tiêm chủng",
        "body": "Nội dung: Lịch tiêm chủng",
        "published_at": "2026-03-02T01:00:00Z",
        "valid_until": "2026-03-09T00:00:00Z",
        "references_id": None,
        "attachments": [],
    }
    one = await client.get(f"{NOTICES}/{published.id}", headers=headers)
    assert one.status_code == 200 and one.json() == item


async def test_categories_filter_everything_but_emergencies(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    leader = await staff_actor(factory, Role.COMMUNE_LEADER, "38001")
    commune_staff = type(staff)(author=leader, approver=leader)
    await publish(app_rt, staff, "Bầu cử", ["38"], category="elections")
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Y tế", ["38001"], category="health")
    clock.advance(minutes=1)
    await publish(app_rt, commune_staff, "Lũ quét", ["38001"], category="disaster", priority="emergency")
    clock.advance(minutes=1)
    await publish(app_rt, staff, "Y tế khẩn", ["38"], category="health", priority="emergency")

    picky = await citizen(client, ["38001"], ["elections"])
    assert titles(await feed(client, picky)) == ["Y tế khẩn", "Lũ quét", "Bầu cử"]
    everything = await citizen(client, ["38001-01"])
    assert titles(await feed(client, everything)) == ["Y tế khẩn", "Lũ quét", "Y tế", "Bầu cử"]


async def test_language_version_with_vietnamese_fallback(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    await publish(app_rt, staff, "Chỉ tiếng Việt", ["38001"])
    clock.advance(minutes=1)
    await publish(
        app_rt, staff, "Hai thứ tiếng", ["38001"], translations={"en": "Two languages", "hmn": "Ob hom lus"}
    )

    headers = await citizen(client, ["38001"])

    def pairs(page):
        return [(i["lang"], i["title"]) for i in page["items"]]

    assert pairs(await feed(client, headers)) == [("vi", "Hai thứ tiếng"), ("vi", "Chỉ tiếng Việt")]
    english = await feed(client, headers, lang="en")
    assert pairs(english) == [("en", "Two languages"), ("vi", "Chỉ tiếng Việt")]
    assert english["items"][0]["body"] == "Body: Two languages"
    assert pairs(await feed(client, headers, lang="en-GB")) == [
        ("en", "Two languages"),
        ("vi", "Chỉ tiếng Việt"),
    ]
    assert pairs(await feed(client, headers, lang="hmn")) == [("hmn", "Ob hom lus"), ("vi", "Chỉ tiếng Việt")]
    assert pairs(await feed(client, headers, lang="fr")) == [
        ("vi", "Hai thứ tiếng"),
        ("vi", "Chỉ tiếng Việt"),
    ]

    # Without ?lang the account's own language is used.
    hmong = await citizen(client, ["38001"], language="hmn")
    assert pairs(await feed(client, hmong))[0] == ("hmn", "Ob hom lus")
    bad = await client.get(FEED, params={"lang": "English!"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"


async def test_pages_follow_each_other_without_duplicates(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    expected = []
    for i in range(9):
        # Three notices share each publication instant: the id breaks the tie.
        if i % 3 == 0:
            clock.advance(minutes=1)
        await publish(app_rt, staff, f"Tin {i}", ["38001" if i % 2 else "38"])
        expected.append(f"Tin {i}")
    await publish(app_rt, staff, "Nơi khác", ["38002"])
    headers = await citizen(client, ["38001"])

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await feed(client, headers, **params)
        pages += 1
        seen += page["items"]
        if pages == 1:
            # Something published while the phone pages through lands on top, not in the middle.
            clock.advance(minutes=1)
            await publish(app_rt, staff, "Tin mới", ["38001"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) == 9
    assert sorted(item["title"] for item in seen) == sorted(expected)
    keys = [(item["published_at"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)
    assert titles(await feed(client, headers, limit=1)) == ["Tin mới"]

    bad = await client.get(FEED, params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"
    too_many = await client.get(FEED, params={"limit": 1000}, headers=headers)
    assert too_many.status_code == 400


async def test_large_feed_is_gzip_compressed(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    for i in range(12):
        await publish(app_rt, staff, f"Thông báo dài số {i}", ["38001"])
    headers = await citizen(client, ["38001"])
    response = await client.get(FEED, params={"limit": 50}, headers={**headers, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 12
    plain = await client.get(FEED, params={"limit": 50}, headers={**headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == response.json()


async def test_only_the_citizen_whose_feed_it_is_may_read(client, factory, app_rt, clock):
    await factory.tree()
    staff = await province_staff(factory)
    notice = await publish(app_rt, staff, "Xã Hoằng Hóa", ["38001"])
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    for method, url in (
        ("GET", FEED),
        ("GET", f"{FEED}/changes?since=x"),
        ("GET", f"{NOTICES}/{notice.id}"),
        ("POST", f"{NOTICES}/{notice.id}/opened"),
    ):
        forbidden = await client.request(method, url, headers=official.headers)
        assert forbidden.status_code == 403, (url, forbidden.text)
        assert forbidden.json()["error"]["code"] == "citizens_only"
        assert (await client.request(method, url)).status_code == 401

    elsewhere = await citizen(client, ["40001"])
    assert (await client.get(f"{NOTICES}/{notice.id}", headers=elsewhere)).status_code == 404
    assert (await client.post(f"{NOTICES}/{notice.id}/opened", headers=elsewhere)).status_code == 404
    assert (await client.get(f"{NOTICES}/{uuid.uuid4()}", headers=elsewhere)).status_code == 404

    home = await citizen(client, ["38001"])
    assert (await client.get(f"{NOTICES}/{notice.id}", headers=home)).status_code == 200
    await withdraw(app_rt, staff, notice.id)
    gone = await client.get(f"{NOTICES}/{notice.id}", headers=home)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_feed_agrees_with_who_receives_a_notice(client, factory, app_rt, clock):
    """The feed's SQL and subscribers() are two sides of one rule: check every pair on the tree."""
    await factory.tree()
    staff = await province_staff(factory)
    codes = ["38", "38001", "38001-01", "38001-02", "38002", "38002-01"]
    published = {}
    for code in codes:
        clock.advance(minutes=1)
        published[code] = await publish(app_rt, staff, f"Cho {code}", [code])
    paths = {
        code: (await app_rt.db.fetchval('SELECT "path" FROM "area" WHERE "code" = {}', code))
        for code in codes
    }
    for followed in [*codes, "40001"]:
        headers, account = await citizen_with_id(client, [followed])
        in_feed = {item["title"] for item in (await feed(client, headers, limit=100))["items"]}
        for code in codes:
            receivers = await subscriptions.subscribers(app_rt, [paths[code]], "health", "normal")
            assert (f"Cho {code}" in in_feed) == (account in receivers), (followed, code)


async def test_etag_matching_follows_rfc_weak_comparison():
    tag = 'W/"abc"'
    assert feed_services.etag_matches('W/"abc"', tag)
    assert feed_services.etag_matches('"abc"', tag)
    assert feed_services.etag_matches('"zzz", W/"abc"', tag)
    assert feed_services.etag_matches("*", tag)
    assert not feed_services.etag_matches('W/"abd"', tag)
    assert not feed_services.etag_matches(None, tag)
