"""Website feeds of an area over HTTP: RSS 2.0, Atom, JSON Feed and the widget, parsed and checked
for their required elements; validators (ETag, Last-Modified) and 304 answers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from backend.core.accounts.permissions import Role
from tests.factories import later, notice_body

ATOM = "{http://www.w3.org/2005/Atom}"


class Site:
    def __init__(self, client: Any, factory: Any) -> None:
        self.client = client
        self.factory = factory

    async def setup(self) -> Site:
        await self.factory.tree()
        self.province = await self.factory.user(
            (Role.PROVINCE_APPROVER, "38"), (Role.PROVINCE_APPROVER, "40")
        )
        return self

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.factory.token(self.province.id)}"}

    async def publish(self, title: str, targets: list[str], **overrides: Any) -> dict[str, Any]:
        body = notice_body(
            target_areas=targets,
            texts={"vi": {"title": title, "body": f"Nội dung: {title}.", "summary": f"Tóm tắt {title}"}},
            valid_until=later(self.client.app.state.rt, hours=4),
            **overrides,
        )
        created = await self.client.post("/api/v1/notices", json=body, headers=self.headers())
        assert created.status_code == 201, created.text
        notice = created.json()
        for step in ("submit", "approve", "publish"):
            answer = await self.client.post(
                f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=self.headers()
            )
            assert answer.status_code == 200, answer.text
        return answer.json()

    async def draft(self, title: str, targets: list[str]) -> dict[str, Any]:
        body = notice_body(target_areas=targets, texts={"vi": {"title": title, "body": "Nháp."}})
        created = await self.client.post("/api/v1/notices", json=body, headers=self.headers())
        return created.json()


@pytest.fixture
async def site(client, factory) -> Site:
    return await Site(client, factory).setup()


async def _published(site: Site) -> dict[str, dict[str, Any]]:
    return {
        "province": await site.publish("Lịch cắt điện toàn tỉnh", ["38"]),
        "commune": await site.publish("Bão số 3 đổ bộ", ["38001"], priority="emergency", category="disaster"),
        "village": await site.publish("Họp thôn Đông", ["38001-01"]),
        "other_province": await site.publish("Tin Nghệ An", ["40001"]),
        "other_commune": await site.publish("Tin phường Hạc Thành", ["38002"]),
        "draft": await site.draft("Bản nháp", ["38001"]),
    }


async def test_rss_atom_and_json_feed_carry_the_areas_notices(site, client):
    notices = await _published(site)
    wanted = {notices[k]["id"] for k in ("province", "commune", "village")}

    rss = await client.get("/feeds/areas/38001/rss.xml")
    assert rss.status_code == 200
    assert rss.headers["content-type"].startswith("application/rss+xml")
    root = ET.fromstring(rss.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    assert "Xã Hoằng Hóa" in channel.findtext("title")
    assert channel.find(f"{ATOM}link").get("rel") == "self"
    items = channel.findall("item")
    guids = {i.findtext("guid").removeprefix("urn:uuid:") for i in items}
    assert guids == wanted
    for item in items:
        assert item.findtext("title") and item.findtext("link").startswith("http://testserver/feeds/notices/")
        assert item.find("guid").get("isPermaLink") == "false"
        parsedate_to_datetime(item.findtext("pubDate"))  # RFC 822 date
    emergency = next(i for i in items if i.findtext("guid").endswith(notices["commune"]["id"]))
    assert emergency.findtext("title") == "[Khẩn cấp] Bão số 3 đổ bộ"
    assert emergency.findtext("category") == "Thiên tai, phòng chống thiên tai" or emergency.findtext(
        "category"
    )

    atom = await client.get("/feeds/areas/38001/atom.xml")
    feed = ET.fromstring(atom.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{required}"), required
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Xã Hoằng Hóa"
    entries = feed.findall(f"{ATOM}entry")
    assert {e.findtext(f"{ATOM}id").removeprefix("urn:uuid:") for e in entries} == wanted
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/feeds/notices/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", feed.findtext(f"{ATOM}updated"))

    js = await client.get("/feeds/areas/38001/feed.json")
    assert js.headers["content-type"].startswith("application/feed+json")
    doc = json.loads(js.content)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] and doc["feed_url"].endswith("/feeds/areas/38001/feed.json")
    assert {i["id"] for i in doc["items"]} == wanted
    for item in doc["items"]:
        assert item["content_text"] and item["url"] and item["date_published"]
    by_id = {i["id"]: i for i in doc["items"]}
    assert by_id[notices["commune"]["id"]]["_keng"]["priority"] == "emergency"

    # The province's own feed shows the province-wide notice and everything inside it, but not Nghệ An's.
    province = json.loads((await client.get("/feeds/areas/38/feed.json")).content)
    ids = {i["id"] for i in province["items"]}
    assert notices["other_commune"]["id"] in ids and notices["other_province"]["id"] not in ids
    assert notices["draft"]["id"] not in ids


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


async def test_widget_is_vietnamese_accessible_and_self_contained(site, client):
    notices = await _published(site)
    answer = await client.get("/feeds/areas/38001/widget.html")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "x-frame-options" not in answer.headers  # meant to be embedded
    page = answer.text
    parser = _Tags()
    parser.feed(page)
    tags = parser.tags
    assert ("html", {"lang": "vi"}) in tags
    assert any(t == "meta" and a.get("charset") == "utf-8" for t, a in tags)
    section = next(a for t, a in tags if t == "section")
    heading = next(a for t, a in tags if t == "h2")
    assert section["aria-labelledby"] == heading["id"]
    # Nothing loaded from anywhere: no scripts, images, frames or stylesheets; links only to notice pages.
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "link", "object", "embed")]
    assert not [a for _, a in tags if "src" in a]
    links = [a["href"] for t, a in tags if t == "a"]
    assert len(links) == 3 and all(h.startswith("http://testserver/feeds/notices/") for h in links)
    assert "Khẩn cấp" in page and "Bão số 3 đổ bộ" in page and "Tin Nghệ An" not in page
    assert re.search(r'<time datetime="[^"]+">\d\d:\d\d \d\d/\d\d/\d{4}</time>', page)

    one = await client.get(f"/feeds/notices/{notices['commune']['id']}")
    assert one.status_code == 200 and "Bão số 3 đổ bộ" in one.text and '<html lang="vi">' in one.text
    draft = await client.get(f"/feeds/notices/{notices['draft']['id']}")
    assert draft.status_code == 404 and draft.json()["error"]["code"] == "not_found"


async def test_validators_and_304(site, client):
    first = await site.publish("Tiêm chủng", ["38001"])
    answer = await client.get("/feeds/areas/38001/rss.xml")
    tag, modified = answer.headers["etag"], answer.headers["last-modified"]
    assert answer.headers["cache-control"] == "public, max-age=60"
    parsedate_to_datetime(modified)

    same = await client.get("/feeds/areas/38001/rss.xml", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
    since = await client.get("/feeds/areas/38001/rss.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    # Each format has its own validator.
    assert (await client.get("/feeds/areas/38001/atom.xml")).headers["etag"] != tag

    # Elsewhere's news does not change this feed; a new notice here does, and so does a withdrawal.
    await site.publish("Tin Nghệ An", ["40001"])
    assert (await client.get("/feeds/areas/38001/rss.xml", headers={"If-None-Match": tag})).status_code == 304
    second = await site.publish("Họp dân", ["38001-02"])
    changed = await client.get("/feeds/areas/38001/rss.xml", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and second["id"] in changed.text
    tag = changed.headers["etag"]
    withdrawn = await client.post(f"/api/v1/notices/{first['id']}/withdraw", json={}, headers=site.headers())
    assert withdrawn.status_code == 200
    after = await client.get("/feeds/areas/38001/rss.xml", headers={"If-None-Match": tag})
    assert after.status_code == 200 and first["id"] not in after.text


async def test_bad_requests(site, client):
    missing = await client.get("/feeds/areas/99999/rss.xml")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await client.get("/feeds/areas/38001/feed.json?limit=0")).status_code == 400
    assert (await client.get("/feeds/areas/38001/feed.json?lang=x!")).status_code == 400
    empty = await client.get("/feeds/areas/38002/widget.html")
    assert empty.status_code == 200 and "Chưa có thông báo nào" in empty.text
