"""E-board playlists: slides made from notices, laid out for each board size of a group.

As in Xibo: every slide has an integer priority and only the highest priority active at a moment
shows (a commune raises an item's ``eboard_priority`` to give it the screen); slides may be limited
to a daypart; when nothing is active the group's default loop shows. An emergency takes the
screen through its own manifest (``emergency.py``) and the board returns to this playlist when the
emergency ends. Layout is data (font sizes, lines per page, pages), computed per resolution from a
160×32 LED module to a 1920×1080 screen, so boards only draw text."""

from __future__ import annotations

import textwrap
import uuid
from datetime import timedelta
from typing import Any

from backend.broadcast.manifests import store
from backend.broadcast.programme.build import notice_ref, publish_group
from backend.broadcast.programme.services import active_items
from backend.broadcast.programme.sources import notices_for
from backend.broadcast.stations.services import eboard_of, groups_of, load_station, rules_of
from backend.core.areas.tables import Area
from backend.devices.topics import Topics
from backend.lib.db import json_column
from backend.runtime import Runtime

VALIDITY = timedelta(days=7)
LED_HEIGHT = 128  # below this a board is an LED module: one line, scrolling
WORDS_PER_SECOND = 2.5
MIN_PAGE_SECONDS = 6


def layout(title: str, body: str, width: int, height: int, min_seconds: int) -> dict[str, Any]:
    """Fonts, wrapping and pages for one screen size; each page gets reading time."""
    if height < LED_HEIGHT:
        px = max(8, height // 2)
        text = f"{title}: {body}"
        seconds = max(min_seconds, round(len(text.split()) / WORDS_PER_SECOND))
        return {
            "width": width,
            "height": height,
            "mode": "scroll",
            "font_px": px,
            "pages": [text],
            "seconds": seconds,
        }
    title_px = max(16, height // 14)
    body_px = max(12, height // 24)
    chars = max(16, int(width / (body_px * 0.55)))
    lines = max(2, int((height - title_px * 1.8) / (body_px * 1.35)))
    wrapped = textwrap.wrap(body, width=chars) or [""]
    pages = ["\n".join(wrapped[i : i + lines]) for i in range(0, len(wrapped), lines)]
    seconds = sum(max(min_seconds, round(len(p.split()) / WORDS_PER_SECOND)) for p in pages)
    return {
        "width": width,
        "height": height,
        "mode": "pages",
        "title": title,
        "title_px": title_px,
        "body_px": body_px,
        "chars_per_line": chars,
        "pages": pages,
        "seconds": seconds,
    }


async def build_eboard(rt: Runtime, station_id: uuid.UUID) -> list[store.Issued]:
    station = await load_station(rt, station_id)
    rules = rules_of(station)
    dayparts = {d.name: {"name": d.name, "start": d.start, "end": d.end} for d in rules.dayparts}
    groups = await groups_of(rt, station_id)
    codes = sorted({c for g in groups for c in json_column(g["area_codes"], [])})
    paths = {
        r["code"]: r["path"]
        for r in await Area.select(Area.code, Area.path).where(Area.code.is_in(codes or ["-"]))
    }
    items = {i["notice_thread_id"]: i for i in await active_items(station_id) if i["notice_thread_id"]}
    notices = [
        n
        for n in await notices_for(rt, station["area_path"])
        if n.priority != "emergency" and n.msg_type != "cancel"
    ]
    topics = Topics.for_settings(rt.settings)
    now = rt.clock.now()
    issued = []
    for group in groups:
        settings = eboard_of(group)
        group_paths = [paths[c] for c in json_column(group["area_codes"], []) if c in paths]
        entries: list[dict[str, Any]] = []
        media: dict[str, dict[str, Any]] = {}
        refs = []
        for n in notices:
            if not n.reaches(group_paths):
                continue
            item = items.get(n.thread_id)
            wanted = json_column(item["group_ids"], []) if item else []
            if wanted and str(group["id"]) not in wanted:
                continue
            image = n.images[0] if n.images else None
            if image:
                media[image["sha256"]] = {
                    "id": image["sha256"],
                    "url": image["url"],
                    "sha256": image["sha256"],
                    "size": image["size"],
                    "mime": image["mime_type"],
                    "duration_ms": None,
                }
            layouts = [
                layout(n.title, n.body, r.width, r.height, settings.slide_seconds)
                for r in settings.resolutions
            ]
            entries.append(
                {
                    "id": f"slide:{n.thread_id}",
                    "kind": "slide",
                    "notice_id": str(n.id),
                    "title": n.title,
                    "body": n.body,
                    "image_media_id": image["sha256"] if image else None,
                    "priority": item["eboard_priority"] if item else (1 if n.priority == "priority" else 0),
                    "daypart": dayparts.get(item["daypart"]) if item and item["daypart"] else None,
                    "valid_from": store.iso(n.valid_from) if n.valid_from else None,
                    "valid_until": store.iso(n.valid_until) if n.valid_until else None,
                    "duration_s": max(lay["seconds"] for lay in layouts),
                    "layouts": layouts,
                    "default": False,
                }
            )
            refs.append(notice_ref(n))
        loop = settings.default_loop or [station["name"]]
        for i, text in enumerate(loop):
            layouts = [
                layout(station["name"], text, r.width, r.height, settings.slide_seconds)
                for r in settings.resolutions
            ]
            entries.append(
                {
                    "id": f"default:{i}",
                    "kind": "slide",
                    "notice_id": None,
                    "title": station["name"],
                    "body": text,
                    "image_media_id": None,
                    "priority": 0,
                    "daypart": None,
                    "valid_from": None,
                    "valid_until": None,
                    "duration_s": max(lay["seconds"] for lay in layouts),
                    "layouts": layouts,
                    "default": True,
                }
            )
        draft = store.Draft(
            kind="eboard",
            scope=store.group_scope(group["id"], "eboard"),
            station_id=station_id,
            group_id=group["id"],
            area_codes=[],
            entries=entries,
            media=sorted(media.values(), key=lambda m: m["id"]),
            notices=sorted(refs, key=lambda r: r["id"]),
            valid_from=now,
            valid_until=(now + VALIDITY).replace(hour=0, minute=0, second=0, microsecond=0),
        )
        issued.append(await publish_group(rt, draft, topics.group_manifest(str(group["id"]), "eboard")))
    return issued
