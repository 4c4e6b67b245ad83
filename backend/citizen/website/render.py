"""Renderings of an area's published notices: RSS 2.0, Atom 1.0, JSON Feed 1.1 and an HTML widget.

Standard library only. The widget and the notice page are self-contained HTML (inline CSS, no
script, no font, image or stylesheet from anywhere), Vietnamese, readable by screen readers:
a landmark with a heading, a list, priorities said in words (not only in colour), times in
``<time datetime>`` shown in Vietnam time."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.broadcast.cap.render import ATOM_NS, cap_time, clean
from backend.citizen.feed.schemas import FeedItem

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PRIORITY_LABEL = {"emergency": "Khẩn cấp", "priority": "Ưu tiên", "normal": "Thông thường"}
MSG_TYPE_LABEL = {"update": "Cập nhật", "cancel": "Hủy bỏ"}
STATUS_LABEL = {
    "withdrawn": "Bản tin đã được thu hồi.",
    "superseded": "Bản tin đã được thay bằng phiên bản mới hơn.",
    "expired": "Bản tin đã hết hiệu lực.",
}


@dataclass(frozen=True)
class FeedContext:
    """What every rendering needs besides the items."""

    area_code: str
    area_name: str
    language: str
    base_url: str  # public origin, no trailing slash
    updated: datetime  # newest change
    categories: dict[str, str]

    @property
    def title(self) -> str:
        return f"Thông tin cơ sở — {self.area_name}"

    @property
    def description(self) -> str:
        return (
            f"Bản tin đã phát hành cho {self.area_name} (gồm bản tin của cấp trên và các thôn, tổ dân phố)."
        )

    def feed_url(self, name: str) -> str:
        return f"{self.base_url}/feeds/areas/{self.area_code}/{name}"

    def notice_url(self, item: FeedItem) -> str:
        suffix = "" if self.language == "vi" else f"?lang={self.language}"
        return f"{self.base_url}/feeds/notices/{item.id}{suffix}"


def vn_time(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def headline(item: FeedItem) -> str:
    """The title with what kind of message it is in words: emergencies and updates say so."""
    marks = [PRIORITY_LABEL[item.priority]] if item.priority != "normal" else []
    if item.msg_type in MSG_TYPE_LABEL:
        marks.append(MSG_TYPE_LABEL[item.msg_type])
    return f"[{' – '.join(marks)}] {item.title}" if marks else item.title


def summary(item: FeedItem) -> str:
    return item.summary or item.body


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = clean(text)
    return element


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def rss(ctx: FeedContext, items: list[FeedItem]) -> str:
    ET.register_namespace("atom", ATOM_NS)
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", ctx.title)
    _sub(channel, "link", ctx.feed_url("widget.html"))
    _sub(channel, "description", ctx.description)
    _sub(channel, "language", ctx.language)
    _sub(channel, "lastBuildDate", format_datetime(ctx.updated, usegmt=True))
    _sub(channel, "ttl", "1")
    _sub(channel, f"{{{ATOM_NS}}}link", href=ctx.feed_url("rss.xml"), rel="self", type="application/rss+xml")
    for item in items:
        el = _sub(channel, "item")
        _sub(el, "title", headline(item))
        _sub(el, "link", ctx.notice_url(item))
        _sub(el, "description", summary(item))
        _sub(el, "category", ctx.categories.get(item.category, item.category))
        _sub(el, "guid", f"urn:uuid:{item.id}", isPermaLink="false")
        _sub(el, "pubDate", format_datetime(item.published_at, usegmt=True))
    return _document(root)


def atom(ctx: FeedContext, items: list[FeedItem]) -> str:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", ctx.language)
    _sub(feed, "id", ctx.feed_url("atom.xml"))
    _sub(feed, "title", ctx.title)
    _sub(feed, "subtitle", ctx.description)
    _sub(feed, "updated", cap_time(ctx.updated))
    author = _sub(feed, "author")
    _sub(author, "name", ctx.area_name)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=ctx.feed_url("atom.xml"))
    _sub(feed, "link", rel="alternate", type="text/html", href=ctx.feed_url("widget.html"))
    for item in items:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:uuid:{item.id}")
        _sub(entry, "title", headline(item))
        _sub(entry, "updated", cap_time(item.published_at))
        _sub(entry, "published", cap_time(item.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=ctx.notice_url(item))
        _sub(entry, "category", term=item.category, label=ctx.categories.get(item.category, item.category))
        _sub(entry, "summary", summary(item))
        _sub(entry, "content", item.body, type="text")
    return _document(feed)


def json_feed(ctx: FeedContext, items: list[FeedItem]) -> dict[str, Any]:
    """JSON Feed 1.1; Kẻng's own fields (priority, validity, versions) under ``_keng``."""
    return {
        "version": JSON_FEED_VERSION,
        "title": ctx.title,
        "home_page_url": ctx.feed_url("widget.html"),
        "feed_url": ctx.feed_url("feed.json"),
        "description": ctx.description,
        "language": ctx.language,
        "authors": [{"name": ctx.area_name}],
        "items": [
            {
                "id": str(item.id),
                "url": ctx.notice_url(item),
                "title": headline(item),
                "summary": summary(item),
                "content_text": item.body,
                "date_published": item.published_at.isoformat(),
                "tags": [ctx.categories.get(item.category, item.category)],
                "language": item.lang,
                "_keng": {
                    "priority": item.priority,
                    "category": item.category,
                    "msg_type": item.msg_type,
                    "thread_id": str(item.thread_id),
                    "version": item.version,
                    "valid_until": item.valid_until.isoformat() if item.valid_until else None,
                },
            }
            for item in items
        ],
    }


STYLE = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;background:#fff}
main,section{padding:12px}
h1,h2{font-size:1.15em;margin:0 0 8px}
ul{list-style:none;margin:0;padding:0}
li{border-top:1px solid #c8c8c8;padding:8px 0}
a{color:#0b4f9c;text-decoration:underline}
a:focus{outline:3px solid #f5a300;outline-offset:2px}
.tag{display:inline-block;font-weight:700;padding:0 6px;margin-right:6px;border:2px solid currentColor}
.emergency .tag{color:#a50000}
.priority .tag{color:#7a4a00}
.meta{font-size:.9em;color:#4a4a4a}
.status{font-weight:700}
p{margin:4px 0}
""".strip()


def _page(title: str, language: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _time(moment: datetime) -> str:
    return f'<time datetime="{html.escape(moment.isoformat())}">{vn_time(moment)}</time>'


def _tag(item: FeedItem) -> str:
    if item.priority == "normal" and item.msg_type not in MSG_TYPE_LABEL:
        return ""
    label = " – ".join(
        ([PRIORITY_LABEL[item.priority]] if item.priority != "normal" else [])
        + ([MSG_TYPE_LABEL[item.msg_type]] if item.msg_type in MSG_TYPE_LABEL else [])
    )
    return f'<span class="tag">{html.escape(label)}</span>'


def widget(ctx: FeedContext, items: list[FeedItem]) -> str:
    heading = html.escape(f"Thông báo — {ctx.area_name}")
    if not items:
        entries = "<p>Chưa có thông báo nào đang có hiệu lực.</p>"
    else:
        rows = []
        for item in items:
            until = f" · hiệu lực đến {_time(item.valid_until)}" if item.valid_until else ""
            rows.append(
                f'<li class="{html.escape(item.priority)}" lang="{html.escape(item.lang)}">'
                f'<h3 style="font-size:1em;margin:0">{_tag(item)}'
                f'<a href="{html.escape(ctx.notice_url(item))}" target="_blank" rel="noopener">'
                f"{html.escape(item.title)}</a></h3>"
                f"<p>{html.escape(summary(item)[:300])}</p>"
                f'<p class="meta">{html.escape(ctx.categories.get(item.category, item.category))} · '
                f"đăng lúc {_time(item.published_at)}{until}</p></li>"
            )
        entries = '<ul role="list">' + "".join(rows) + "</ul>"
    body = f'<section aria-labelledby="keng-title"><h2 id="keng-title">{heading}</h2>{entries}</section>'
    return _page(ctx.title, ctx.language, body)


def notice_page(ctx: FeedContext, item: FeedItem) -> str:
    status = STATUS_LABEL.get(item.status, "")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in item.body.split("\n") if p.strip())
    until = f" · hiệu lực đến {_time(item.valid_until)}" if item.valid_until else ""
    body = (
        f'<main class="{html.escape(item.priority)}" lang="{html.escape(item.lang)}">'
        f"<h1>{_tag(item)}{html.escape(item.title)}</h1>"
        + (f'<p class="status" role="status">{html.escape(status)}</p>' if status else "")
        + f'<p class="meta">{html.escape(ctx.categories.get(item.category, item.category))} · '
        f"đăng lúc {_time(item.published_at)}{until}</p>{paragraphs}</main>"
    )
    return _page(item.title, item.lang, body)
