"""The upstream's side of the link: published notices for a downstream province, in change order.

The cursor is the gap-free change-log sequence (never a time), so a downstream that was away for a
week asks for what changed after the last sequence it saw and gets every notice version it missed,
each in its current state: a withdrawal or an update after the first publication reaches it too.
A notice is offered when a change to it was recorded against an area that reaches the province —
inside it, or an ancestor (a nation-wide notice) — and it has been published at some time.
Published notices are public information (they are on the CAP feed), so no login is asked."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.broadcast.cap.services import identifier_for
from backend.citizen.feed.services import notice_changes
from backend.core.areas import services as areas
from backend.core.changes.services import high_water_mark
from backend.core.notices.schemas import Attachment, NoticeText
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib.db import json_column
from backend.lib.errors import BadRequest
from backend.runtime import Runtime
from backend.upstream.schemas import ExchangeNotice, ExchangePage, ExchangeSource

MAX_LIMIT = 500
OFFERED = ("published", "withdrawn", "superseded", "expired")


def _since(value: str) -> int:
    if not value.isdigit():
        raise BadRequest("bad_cursor", details={"field": "since", "reason": "a cursor from this API"})
    return int(value)


async def notices_for(rt: Runtime, province: str, since: str, limit: int) -> ExchangePage:
    after = _since(since)
    area = await areas.get(rt, province)
    limit = max(1, min(limit, MAX_LIMIT))
    async with rt.db.reading():
        high = await high_water_mark(rt)
        if after > high:
            # A cursor from before a restore from backup: start again (versions are idempotent).
            after = 0
        rows, upto, more = await notice_changes(rt, [area["path"]], after, high, limit)
        last_seq: dict[uuid.UUID, int] = {}
        for seq, notice_id in rows:
            last_seq[notice_id] = seq
        notices = await Notice.select().where(Notice.id.is_in(list(last_seq) or [uuid.UUID(int=0)]))
        targets = await NoticeTarget.select(
            NoticeTarget.notice, NoticeTarget.area_code, NoticeTarget.area_path
        ).where(NoticeTarget.notice.is_in(list(last_seq) or [uuid.UUID(int=0)]))
    codes: dict[Any, list[str]] = {}
    reaching: set[Any] = set()
    for t in targets:
        codes.setdefault(t["notice"], []).append(t["area_code"])
        # The change log also records the owner's area: only the targets say whom a notice is for.
        if t["area_path"].startswith(area["path"]) or area["path"].startswith(t["area_path"]):
            reaching.add(t["notice"])
    items = [
        _item(rt, n, sorted(codes.get(n["id"], [])), last_seq[n["id"]])
        for n in notices
        if n["status"] in OFFERED and n["published_at"] is not None and n["id"] in reaching
    ]
    items.sort(key=lambda i: i.seq)
    return ExchangePage(
        source=ExchangeSource(sender=rt.settings.effective_cap_sender, province=province),
        items=items,
        cursor=str(upto),
        more=more,
    )


def _item(rt: Runtime, row: dict[str, Any], target_codes: list[str], seq: int) -> ExchangeNotice:
    identifier = identifier_for(rt, row["id"], "published")
    return ExchangeNotice(
        id=row["id"],
        thread_id=row["thread_id"],
        version=row["version"],
        references_id=row["references_id"],
        msg_type=row["msg_type"],
        status=row["status"],
        category=row["category"],
        priority=row["priority"],
        texts={lang: NoticeText(**t) for lang, t in json_column(row["texts"]).items()},
        target_areas=target_codes,
        attachments=[msgspec.convert(a, Attachment) for a in json_column(row["attachments"], [])],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        published_at=row["published_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        cap_identifier=identifier,
        cap_url=f"/cap/alerts/{identifier}.xml",
        seq=seq,
    )
