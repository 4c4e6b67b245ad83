"""What a station may broadcast: published notices that reach its commune, and which stations a
notice reaches. A notice reaches a station when one of its targets is the commune, lies inside it
(a village), or contains it (the district, province or nation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.broadcast.tables import Station
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib.db import json_column
from backend.runtime import Runtime


def ancestors(path: str) -> list[str]:
    """``/VN/38/38001/`` → ``/VN/``, ``/VN/38/``, ``/VN/38/38001/``."""
    codes = [c for c in path.strip("/").split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


@dataclass(frozen=True)
class NoticeSource:
    id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    priority: str
    msg_type: str
    title: str
    body: str
    valid_from: datetime | None
    valid_until: datetime | None
    published_at: datetime | None
    target_paths: tuple[str, ...]
    images: tuple[dict[str, Any], ...]

    def reaches(self, paths: list[str]) -> bool:
        """Does a target overlap any of these area paths (inside or containing)?"""
        return any(t.startswith(p) or p.startswith(t) for t in self.target_paths for p in paths)


async def notices_for(rt: Runtime, station_path: str) -> list[NoticeSource]:
    """Published, unexpired notices reaching the station, oldest publication first."""
    now = rt.clock.now()
    targets = await NoticeTarget.select(NoticeTarget.notice, NoticeTarget.area_path).where(
        (
            NoticeTarget.area_path.like(f"{station_path}%")
            | NoticeTarget.area_path.is_in(ancestors(station_path))
        )
        & (NoticeTarget.notice.status == "published")
    )
    if not targets:
        return []
    ids = sorted({t["notice"] for t in targets}, key=str)
    paths: dict[Any, list[str]] = {}
    for t in await NoticeTarget.select(NoticeTarget.notice, NoticeTarget.area_path).where(
        NoticeTarget.notice.is_in(ids)
    ):
        paths.setdefault(t["notice"], []).append(t["area_path"])
    rows = await Notice.select().where(Notice.id.is_in(ids)).order_by(Notice.published_at)
    out = []
    for row in rows:
        if row["valid_until"] is not None and row["valid_until"] <= now:
            continue
        out.append(to_source(row, paths.get(row["id"], [])))
    return out


def to_source(row: dict[str, Any], target_paths: list[str]) -> NoticeSource:
    texts = json_column(row["texts"], {})
    vi = texts.get("vi") or next(iter(texts.values()), {"title": "", "body": ""})
    images = tuple(
        a
        for a in json_column(row["attachments"], [])
        if a.get("kind") == "image" and a.get("url") and a.get("sha256")
    )
    return NoticeSource(
        id=row["id"],
        thread_id=row["thread_id"],
        version=row["version"],
        priority=row["priority"],
        msg_type=row["msg_type"],
        title=vi.get("title", ""),
        body=vi.get("body", ""),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        published_at=row["published_at"],
        target_paths=tuple(sorted(target_paths)),
        images=images,
    )


async def stations_reached(rt: Runtime, target_paths: list[str]) -> list[uuid.UUID]:
    """Stations whose commune lies inside a target or contains it."""
    found: set[uuid.UUID] = set()
    for path in target_paths:
        rows = await Station.select(Station.id).where(
            Station.area_path.like(f"{path}%") | Station.area_path.is_in(ancestors(path))
        )
        found |= {r["id"] for r in rows}
    return sorted(found, key=str)
