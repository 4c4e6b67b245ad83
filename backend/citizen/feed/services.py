"""The citizen's feed: published, unexpired notices for the areas they follow, newest first.

Which notices reach a citizen is the subscriptions rule (a target is a followed area, an ancestor
of one, or inside one; categories filter all but emergencies). On top of it:

* **ETag** without reading the feed: the followed areas and categories, the language, the page,
  the highest change-log sequence touching any area that can reach the citizen (every lifecycle
  step of a notice records its target paths), and the next moment any published notice expires
  (a notice leaves the feed at ``valid_until`` even before the expiry sweep records it).
* **Changes since a cursor**: the change-log sequence is gap-free and commit-ordered, so a phone
  back online asks for what changed after the last sequence it saw and gets current versions to
  store plus removals (withdrawn, superseded, expired) — never the whole feed again.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.citizen.feed.schemas import (
    FeedChanges,
    FeedItem,
    FeedPage,
    FeedRemoval,
    ReceiptOut,
)
from backend.citizen.subscriptions.services import (
    Followed,
    ancestor_paths,
    followed,
    prefix_clause,
    reach_clause,
    require_citizen,
    wants,
)
from backend.core.accounts.permissions import Actor
from backend.core.changes.services import high_water_mark
from backend.core.notices.schemas import Attachment
from backend.lib.db import json_column
from backend.lib.errors import BadRequest, NotFound
from backend.lib.paging import decode_cursor, encode_cursor
from backend.runtime import Runtime

FEED_FORMAT = "feed-1"  # part of every ETag: bump when FeedItem changes shape
CHANGES_LIMIT = 200
FALLBACK_LANGUAGE = "vi"

_COLUMNS = (
    'n."id", n."thread_id", n."version", n."msg_type", n."status", n."category", n."priority", '
    'n."texts", n."attachments", n."published_at", n."valid_until", n."ended_at", n."references_id"'
)


@dataclass(frozen=True)
class FeedView:
    """What a feed request is about, resolved once: who, what they follow, which language."""

    scope: Followed
    language: str


async def view(rt: Runtime, actor: Actor, lang: str | None) -> FeedView:
    account_id = require_citizen(actor)
    scope = await followed(rt, account_id)
    return FeedView(scope=scope, language=lang or scope.language or FALLBACK_LANGUAGE)


@dataclass(frozen=True)
class FeedAnswer:
    etag: str
    page: FeedPage | None  # None: not modified


async def feed(
    rt: Runtime, actor: Actor, lang: str | None, cursor: str | None, limit: int, if_none_match: str | None
) -> FeedAnswer:
    """The page with its ETag, or only the ETag when the phone already has that page."""
    async with rt.db.reading():
        v = await view(rt, actor, lang)
        tag, seq = await etag(rt, v, cursor, limit)
        if etag_matches(if_none_match, tag):
            return FeedAnswer(etag=tag, page=None)
        return FeedAnswer(etag=tag, page=await page(rt, v, cursor, limit, seq))


async def read_notice(rt: Runtime, actor: Actor, lang: str | None, notice_id: uuid.UUID) -> FeedItem:
    async with rt.db.reading():
        return await notice(rt, await view(rt, actor, lang), notice_id)


async def read_changes(rt: Runtime, actor: Actor, lang: str | None, since: str | None) -> FeedChanges:
    require_citizen(actor)
    if since is None:
        raise BadRequest(
            "invalid_input",
            message_key="error.validation",
            details=[{"field": "since", "reason": "required: the changes_cursor of a feed page"}],
        )
    async with rt.db.reading():
        return await changes(rt, await view(rt, actor, lang), since)


async def mark_opened(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> ReceiptOut:
    return await opened(rt, await view(rt, actor, None), notice_id)


# --------------------------------------------------------------------------------------------------
# ETag


def _validator_sql(rt: Runtime, paths: tuple[str, ...], now: datetime) -> tuple[str, list[Any]]:
    """One statement for both inputs of the ETag besides the subscriptions:

    * the highest change-log sequence recorded against any area that can reach ``paths`` — one
      index probe per ancestor path (``change_area (area_path, seq)``) plus a range for the inside;
    * when the next published notice anywhere reaches ``valid_until`` (the feed changes then,
      even before the expiry sweep records it) — one probe of ``notice_published_until``."""
    parts: list[str] = []
    args: list[Any] = []
    for path in sorted({a for p in paths for a in ancestor_paths(p)}):
        parts.append('SELECT MAX("seq") AS m FROM "change_area" WHERE "area_path" = {}')
        args.append(path)
    for path in paths:
        clause, more = prefix_clause('"area_path"', path, rt.db.dialect, strict=True)
        # "+ 0": aggregate the few rows inside the range rather than walking the whole log
        # backwards by seq until one of them turns up (a plan PostgreSQL likes for generic plans).
        parts.append(f'SELECT MAX("seq" + 0) AS m FROM "change_area" WHERE {clause}')
        args += more
    seq = "(SELECT MAX(x.m) FROM (" + " UNION ALL ".join(parts) + ") x)" if parts else "0"
    sql = (
        f'SELECT {seq} AS "seq", (SELECT MIN("valid_until") FROM "notice" '
        'WHERE "status" = \'published\' AND "valid_until" > {}) AS "expiry"'
    )
    return sql, [*args, now]


async def etag(rt: Runtime, v: FeedView, cursor: str | None, limit: int) -> tuple[str, int]:
    """A weak validator of the page (gzip changes the bytes, not the meaning), and the sequence
    it was computed at. Read *before* the feed itself, so a change in between can only make a
    later request miss the cache, never serve a stale page."""
    sql, args = _validator_sql(rt, v.scope.paths, rt.clock.now())
    row = (await rt.db.fetch(sql, *args))[0]
    seq = int(row["seq"] or 0)
    expiry = _dt(row["expiry"])
    raw = "|".join(
        [
            FEED_FORMAT,
            str(v.scope.account_id),
            v.scope.fingerprint,
            v.language,
            cursor or "",
            str(limit),
            str(seq),
            "" if expiry is None else expiry.isoformat(),
        ]
    )
    return f'W/"{hashlib.sha256(raw.encode()).hexdigest()[:32]}"', seq


def etag_matches(if_none_match: str | None, current: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2) against a list of tags or ``*``."""
    if not if_none_match:
        return False
    opaque = current.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Feed


def _visible_sql(v: FeedView, rt: Runtime, now: datetime) -> tuple[str, list[Any]]:
    """WHERE clause (on ``notice n``) of notices in this citizen's feed right now."""
    reach, args = reach_clause('t."area_path"', v.scope.paths, rt.db.dialect)
    sql = (
        'n."status" = \'published\' AND (n."valid_until" IS NULL OR n."valid_until" > {}) '
        f'AND n."id" IN (SELECT t."notice" FROM "notice_target" t WHERE {reach})'
    )
    all_args: list[Any] = [now, *args]
    if v.scope.categories:
        marks = ", ".join("{}" for _ in v.scope.categories)
        sql += f' AND (n."category" IN ({marks}) OR n."priority" = \'emergency\')'
        all_args += list(v.scope.categories)
    return sql, all_args


async def page(rt: Runtime, v: FeedView, cursor: str | None, limit: int, seq: int) -> FeedPage:
    changes_cursor = _changes_cursor(seq, v.scope)
    if not v.scope.paths:
        return FeedPage(items=[], next_cursor=None, changes_cursor=changes_cursor)
    where, args = _visible_sql(v, rt, rt.clock.now())
    if cursor:
        published, last_id = _feed_key(cursor)
        where += ' AND (n."published_at" < {} OR (n."published_at" = {} AND n."id" < {}))'
        args += [published, published, last_id]
    # The page's ids come from the covering index "notice_feed_by_id" alone (one probe per notice
    # targeting the citizen's areas); only the rows of the page itself, with their texts, are read
    # from the table. SQLite would rather probe the primary key and read every row: told not to.
    hint = " INDEXED BY notice_feed_by_id" if rt.db.dialect == "sqlite" else ""
    order = 'ORDER BY n."published_at" DESC, n."id" DESC'
    sql = (
        f'SELECT {_COLUMNS} FROM "notice" n WHERE n."id" IN ('
        f'SELECT n."id" FROM "notice" n{hint} WHERE {where} {order} LIMIT {{}}) {order}'
    )
    rows = await rt.db.fetch(sql, *args, limit + 1)
    items = [to_item(r, v.language) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"p": last.published_at.isoformat(), "i": str(last.id)})
    return FeedPage(items=items, next_cursor=next_cursor, changes_cursor=changes_cursor)


def _feed_key(cursor: str) -> tuple[datetime, uuid.UUID]:
    key = decode_cursor(cursor)
    try:
        published = datetime.fromisoformat(str(key["p"]))
        last_id = uuid.UUID(str(key["i"]))
    except (KeyError, ValueError) as exc:
        raise _bad_cursor("cursor") from exc
    if published.tzinfo is None:
        raise _bad_cursor("cursor")
    return published, last_id


def _bad_cursor(field: str) -> BadRequest:
    return BadRequest("bad_cursor", details={"field": field, "reason": "not a cursor from this API"})


# --------------------------------------------------------------------------------------------------
# Items


def pick_text(texts: dict[str, dict[str, str]], language: str) -> tuple[str, dict[str, str]]:
    """The asked language, else its primary subtag (``en-US`` → ``en``), else Vietnamese."""
    if language in texts:
        return language, texts[language]
    primary = language.split("-")[0].lower()
    for tag in sorted(texts):
        if tag.split("-")[0].lower() == primary:
            return tag, texts[tag]
    if FALLBACK_LANGUAGE in texts:
        return FALLBACK_LANGUAGE, texts[FALLBACK_LANGUAGE]
    tag = sorted(texts)[0]
    return tag, texts[tag]


def to_item(row: dict[str, Any], language: str) -> FeedItem:
    used, text = pick_text(json_column(row["texts"]), language)
    published = _dt(row["published_at"])
    assert published is not None  # only published notices reach the feed
    return FeedItem(
        id=_uuid(row["id"]),
        thread_id=_uuid(row["thread_id"]),
        version=int(row["version"]),
        msg_type=row["msg_type"],
        status=row["status"],
        category=row["category"],
        priority=row["priority"],
        lang=used,
        title=text.get("title", ""),
        summary=text.get("summary", ""),
        body=text.get("body", ""),
        published_at=published,
        valid_until=_dt(row["valid_until"]),
        references_id=_uuid(row["references_id"]) if row["references_id"] is not None else None,
        attachments=msgspec.convert(json_column(row["attachments"]) or [], list[Attachment]),
    )


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:  # SQLite keeps UTC without saying so in computed columns
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------------
# One notice, as the feed sees it


async def _load(rt: Runtime, v: FeedView, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Notices by id with ``reach``: whether a target reaches this citizen's areas."""
    if not ids or not v.scope.paths:
        return []
    reach, args = reach_clause('t."area_path"', v.scope.paths, rt.db.dialect)
    match, id_args = rt.db.any_of(ids, "uuid")
    sql = (
        f'SELECT {_COLUMNS}, EXISTS (SELECT 1 FROM "notice_target" t '
        f'WHERE t."notice" = n."id" AND {reach}) AS "reach" '
        f'FROM "notice" n WHERE n."id" {match}'
    )
    return await rt.db.fetch(sql, *args, *id_args)


def _reaches(v: FeedView, row: dict[str, Any]) -> bool:
    """Published at some time, for a followed area, in a wanted category: the phone may hold it."""
    return (
        bool(row["reach"])
        and row["published_at"] is not None
        and wants(v.scope.categories, row["category"], row["priority"])
    )


def _current(row: dict[str, Any], now: datetime) -> bool:
    until = _dt(row["valid_until"])
    return row["status"] == "published" and (until is None or until > now)


async def notice(rt: Runtime, v: FeedView, notice_id: uuid.UUID) -> FeedItem:
    rows = await _load(rt, v, [notice_id])
    if not rows or not _reaches(v, rows[0]) or not _current(rows[0], rt.clock.now()):
        raise NotFound("notice", details={"id": str(notice_id)})
    return to_item(rows[0], v.language)


async def opened(rt: Runtime, v: FeedView, notice_id: uuid.UUID) -> ReceiptOut:
    """Record that the citizen opened a notice, once. An open reported late by a phone that was
    offline counts even if the notice has since expired or been withdrawn."""
    rows = await _load(rt, v, [notice_id])
    if not rows or not _reaches(v, rows[0]):
        raise NotFound("notice", details={"id": str(notice_id)})
    account_id = v.scope.account_id
    inserted = await rt.db.fetch(
        'INSERT INTO "read_receipt" ("id", "notice", "account", "opened_at") VALUES ({}, {}, {}, {}) '
        'ON CONFLICT ("notice", "account") DO NOTHING RETURNING "id"',
        uuid.uuid4(),
        notice_id,
        account_id,
        rt.clock.now(),
    )
    opened_at = await rt.db.fetchval(
        'SELECT "opened_at" FROM "read_receipt" WHERE "notice" = {} AND "account" = {}',
        notice_id,
        account_id,
    )
    when = _dt(opened_at)
    assert when is not None
    return ReceiptOut(notice_id=notice_id, opened_at=when, first=bool(inserted))


# --------------------------------------------------------------------------------------------------
# Changes since a cursor


def _changes_cursor(seq: int, scope: Followed) -> str:
    return encode_cursor({"s": seq, "f": scope.fingerprint})


def _since_key(since: str) -> tuple[int, str]:
    key = decode_cursor(since)
    try:
        seq = int(key["s"])
        fingerprint = str(key["f"])
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_cursor("since") from exc
    if seq < 0:
        raise _bad_cursor("since")
    return seq, fingerprint


async def notice_changes(
    rt: Runtime, paths: tuple[str, ...] | list[str], after: int, high: int, limit: int
) -> tuple[list[tuple[int, uuid.UUID]], int, bool]:
    """Notice changes in (after, high] recorded against an area that reaches ``paths``, in change
    order: ([(seq, notice id)], the sequence to continue after, whether more remain)."""
    reach, args = reach_clause('ca."area_path"', paths, rt.db.dialect)
    # Walk only the log entries after the cursor (primary key range), each checked against the
    # areas through "change_area_seq".
    rows = await rt.db.fetch(
        'SELECT cl."seq", cl."row_id" FROM "change_log" cl '
        'WHERE cl."seq" > {} AND cl."seq" <= {} AND cl."table_name" = \'notice\' '
        f'AND EXISTS (SELECT 1 FROM "change_area" ca WHERE ca."seq" = cl."seq" AND {reach}) '
        'ORDER BY cl."seq" LIMIT {}',
        after,
        high,
        *args,
        limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    upto = int(rows[-1]["seq"]) if more else high
    return [(int(r["seq"]), uuid.UUID(str(r["row_id"]))) for r in rows], upto, more


async def changes(rt: Runtime, v: FeedView, since: str, limit: int = CHANGES_LIMIT) -> FeedChanges:
    after, fingerprint = _since_key(since)
    high = await high_water_mark(rt)
    if fingerprint != v.scope.fingerprint or after > high:
        # Other areas or categories than when the cursor was issued (or a cursor from a server
        # restored from an older backup): the phone must fetch the feed again.
        return FeedChanges(
            items=[], removed=[], cursor=_changes_cursor(high, v.scope), more=False, reset=True
        )
    if not v.scope.paths:
        return FeedChanges(items=[], removed=[], cursor=_changes_cursor(high, v.scope), more=False)
    rows, upto, more = await notice_changes(rt, v.scope.paths, after, high, limit)
    ids = list(dict.fromkeys(notice_id for _, notice_id in rows))
    now = rt.clock.now()
    items: list[FeedItem] = []
    removed: list[FeedRemoval] = []
    order = {notice_id: i for i, notice_id in enumerate(ids)}
    for row in sorted(await _load(rt, v, ids), key=lambda r: order[_uuid(r["id"])]):
        if not _reaches(v, row):
            continue  # a draft, another category, or only the owner's area matched
        if _current(row, now):
            items.append(to_item(row, v.language))
        else:
            until = _dt(row["valid_until"])
            status = "expired" if row["status"] == "published" else row["status"]
            removed.append(
                FeedRemoval(
                    id=_uuid(row["id"]),
                    thread_id=_uuid(row["thread_id"]),
                    status=status,
                    ended_at=_dt(row["ended_at"]) or (until if status == "expired" else None),
                )
            )
    return FeedChanges(items=items, removed=removed, cursor=_changes_cursor(upto, v.scope), more=more)
