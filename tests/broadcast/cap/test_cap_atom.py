"""The Atom index of current CAP alerts: the latest message of each notice thread, unless it is a
Cancel or has expired, newest first, every entry linking a CAP message that resolves over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from tests.broadcast.cap.support import (
    CAP_TIME,
    NS,
    act,
    drain,
    messages,
    new_version,
    parse_valid,
    publish,
    text,
)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _vi(title: str) -> dict:
    return {"vi": {"title": title, "body": f"Nội dung: {title}."}}


async def _atom(client) -> etree._Element:
    response = await client.get("/cap/atom.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM_NS}feed"
    return root


def _entries(feed: etree._Element) -> list[etree._Element]:
    return feed.findall("atom:entry", NS)


async def test_index_lists_current_alerts_newest_first_with_resolving_links(client, factory, app_rt, clock):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    until = (START + timedelta(days=2)).isoformat()

    lasting = await publish(client, author, leader, texts=_vi("Lịch tiêm chủng"), valid_until=until)
    clock.advance(minutes=1)
    short = await publish(
        client, author, leader, texts=_vi("Cắt điện"), valid_until=(START + timedelta(hours=1)).isoformat()
    )
    clock.advance(minutes=1)
    cancelled = await publish(client, author, leader, texts=_vi("Họp dân"), valid_until=until)
    clock.advance(minutes=1)
    updated = await publish(client, author, leader, texts=_vi("Bão số 3"), valid_until=until)
    clock.advance(minutes=1)
    withdrawn = await publish(client, author, leader, texts=_vi("Thu phí"), valid_until=until)
    await drain(app_rt)
    clock.advance(minutes=1)
    await new_version(client, author, leader, cancelled["id"], msg_type="cancel", reason="Hoãn họp")
    clock.advance(minutes=1)
    await new_version(
        client, author, leader, updated["id"], msg_type="update", texts=_vi("Bão số 3 mạnh lên")
    )
    clock.advance(minutes=1)
    await act(client, leader, withdrawn["id"], "withdraw")
    await drain(app_rt)
    assert len(await messages()) == 8

    feed = await _atom(client)
    titles = [text(e, "atom:title") for e in _entries(feed)]
    assert titles == ["Bão số 3 mạnh lên", "Cắt điện", "Lịch tiêm chủng"]
    assert text(feed, "atom:updated") == "2026-03-02T01:07:00-00:00"
    assert text(feed, "atom:author/atom:name") == "Hệ thống thông tin nguồn tỉnh Thanh Hóa"
    assert feed.find("atom:link[@rel='self']", NS).get("href") == "http://testserver/cap/atom.xml"
    by_title = {}
    for entry in _entries(feed):
        for value in (text(entry, "atom:updated"), text(entry, "atom:published")):
            assert CAP_TIME.match(value), value
        link = entry.find("atom:link[@rel='alternate']", NS)
        assert link.get("type") == "application/cap+xml"
        assert text(entry, "atom:id") == link.get("href")
        response = await client.get(link.get("href"))
        assert response.status_code == 200, link.get("href")
        alert = parse_valid(response.content)
        assert text(alert, "cap:info/cap:headline") == text(entry, "atom:title")
        by_title[text(entry, "atom:title")] = alert
    assert text(by_title["Bão số 3 mạnh lên"], "cap:msgType") == "Update"
    assert text(by_title["Cắt điện"], "cap:msgType") == "Alert"
    assert lasting["id"] in text(by_title["Lịch tiêm chủng"], "cap:identifier")
    assert short["id"] in text(by_title["Cắt điện"], "cap:identifier")

    # Past its validity an alert leaves the index; nothing else changes.
    clock.advance(hours=1)
    later = await _atom(client)
    assert [text(e, "atom:title") for e in _entries(later)] == ["Bão số 3 mạnh lên", "Lịch tiêm chủng"]
    assert text(later, "atom:updated") == "2026-03-02T02:00:00-00:00"
    clock.advance(days=3)
    assert _entries(await _atom(client)) == []


async def test_empty_index_is_a_valid_feed_and_revalidates_by_etag(client, factory):
    response = await client.get("/cap/atom.xml")
    assert response.status_code == 200
    feed = etree.fromstring(response.content)
    assert _entries(feed) == []
    for tag in ("atom:id", "atom:title", "atom:updated", "atom:author/atom:name"):
        assert text(feed, tag), tag
    assert response.headers["cache-control"].startswith("public")
    again = await client.get("/cap/atom.xml", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
