"""Per-device delivery rows: plan once, claim page by page, record every outcome.

Statuses: ``pending`` (planned) → ``sending`` (claimed by a fan-out, with ``claimed_at``) →
``sent`` | ``retry`` (429/5xx/network; tried again later) | ``failed`` (permanent) | ``pruned``
(the push service said the device is gone; the registration is pruned too) | ``skipped`` (not
sent: validity over, notice withdrawn or superseded, device unregistered). Claiming is one
conditional UPDATE in a write transaction, so two workers never send the same row; a ``sending``
row older than the lease belongs to a fan-out that died and is claimed again.

Claiming a page and recording its outcomes are the hot path of a fan-out: on SQLite a page's
outcomes, the "still published?" check and the next claim are one transaction on a plain
connection (``Database.sqlite_batch``: one thread hop and one commit, tuples, no row conversion);
on PostgreSQL the outcomes are one transaction and the claim one statement (a data-modifying CTE,
arrays for id lists)."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from backend.citizen.push.outcomes import Outcomes, write, write_sqlite
from backend.citizen.subscriptions.services import subscribers_query
from backend.runtime import Runtime

SENDING_LEASE = timedelta(seconds=120)
OPEN_STATES = ("pending", "sending", "retry")
CLAIMABLE = "(\"status\" IN ('pending', 'retry') OR (\"status\" = 'sending' AND \"claimed_at\" < {}))"


class Row(NamedTuple):
    """A claimed delivery with what sending it needs (its registration is found again by the
    delivery's id when the push service says the device is gone)."""

    id: int
    channel: str
    endpoint: str
    p256dh: str
    auth: str
    language: str
    active: bool  # the registration is not pruned (0/1 from SQLite)


# A page's rows are made from the driver's tuples in C, without a Python call per row.
_as_row = functools.partial(tuple.__new__, Row)


async def planned(rt: Runtime, notice_id: uuid.UUID, event: str) -> bool:
    found = await rt.db.fetchval(
        'SELECT 1 AS x FROM "push_delivery" WHERE "notice" = {} AND "event" = {} LIMIT 1', notice_id, event
    )
    return found is not None


async def plan_published(
    rt: Runtime, notice_id: uuid.UUID, target_paths: list[str], category: str, priority: str
) -> None:
    """One pending row per active registration of every subscriber, in one statement.

    The subscribers are resolved inside the database (nothing loaded and bound again), and rows
    go in in the order of their registration ids: the unique and the registration indexes, both
    keyed by that random UUID, then grow at one end instead of at random places."""
    if await planned(rt, notice_id, "published"):
        return
    query = subscribers_query(target_paths, category, priority, rt.db.dialect)
    if query is None:
        return
    accounts, args = query
    now = rt.clock.now()
    sql = (
        'INSERT INTO "push_delivery" ("notice", "event", "registration", "channel", "status", '
        '"attempts", "error", "created_at") '
        "SELECT {}, 'published', r.\"id\", r.\"kind\", 'pending', 0, '', {} "
        'FROM "push_registration" r WHERE r."account" IN (' + accounts + ") "
        'AND r."pruned_at" IS NULL AND (r."expires_at" IS NULL OR r."expires_at" > {}) '
        'ORDER BY r."id" ON CONFLICT ("notice", "event", "registration") DO NOTHING'
    )
    values = (notice_id, now, *args, now)
    if rt.db.dialect == "sqlite":
        await rt.db.sqlite_batch(lambda c: c.execute(sql.replace("{}", "?"), values))
        return
    await rt.db.execute(sql, *values)


# The notice's status, read before each page is claimed (on SQLite in the claim's transaction).
_STATUS_SQL = 'SELECT "status" FROM "notice" WHERE "id" = {}'


async def plan_withdrawn(rt: Runtime, notice_id: uuid.UUID) -> None:
    """Tell the devices that got (or may have got) the notice; stop sending it to the others."""
    if await planned(rt, notice_id, "withdrawn"):
        return
    now = rt.clock.now()
    async with rt.db.transaction():
        await skip_open(rt, notice_id, "published", "withdrawn")
        await rt.db.execute(
            'INSERT INTO "push_delivery" ("notice", "event", "registration", "channel", "status", '
            '"attempts", "error", "created_at") '
            "SELECT \"notice\", 'withdrawn', \"registration\", \"channel\", 'pending', 0, '', {} "
            'FROM "push_delivery" WHERE "notice" = {} AND "event" = \'published\' '
            "AND \"status\" IN ('sent', 'sending') "
            'ON CONFLICT ("notice", "event", "registration") DO NOTHING',
            now,
            notice_id,
        )


async def skip_open(rt: Runtime, notice_id: uuid.UUID, event: str, reason: str) -> None:
    """Rows not yet sent will not be: the notice ended, was withdrawn or superseded."""
    await rt.db.execute(
        'UPDATE "push_delivery" SET "status" = \'skipped\', "error" = {}, "done_at" = {} '
        'WHERE "notice" = {} AND "event" = {} AND "status" IN (\'pending\', \'retry\')',
        reason[:255],
        rt.clock.now(),
        notice_id,
        event,
    )


async def claim(
    rt: Runtime, notice_id: uuid.UUID, event: str, after_id: int, limit: int
) -> tuple[list[Row], int]:
    """Claim the next page after ``after_id``; returns (claimed rows, last id looked at)."""
    now = rt.clock.now()
    stale = now - SENDING_LEASE
    if rt.db.dialect == "sqlite":
        return await rt.db.sqlite_batch(
            lambda c: _claim_sqlite(c, notice_id, event, after_id, limit, now, stale)
        )
    # One statement: lock the next claimable rows (skipping rows another claimer is taking right
    # now), mark them, and return them with their registrations.
    found = await rt.db.fetch(
        'WITH "page" AS (SELECT "id" FROM "push_delivery" WHERE "notice" = {} AND "event" = {} '
        'AND "id" > {} AND ' + CLAIMABLE + ' ORDER BY "id" LIMIT {} FOR UPDATE SKIP LOCKED), '
        '"taken" AS (UPDATE "push_delivery" d SET "status" = \'sending\', "claimed_at" = {}, '
        '"attempts" = d."attempts" + 1 FROM "page" WHERE d."id" = "page"."id" '
        'RETURNING d."id", d."registration", d."channel") '
        'SELECT t."id", t."channel", r."endpoint", r."p256dh", r."auth", r."language", '
        'r."pruned_at" FROM "taken" t JOIN "push_registration" r ON r."id" = t."registration" ORDER BY t."id"',
        notice_id,
        event,
        after_id,
        stale,
        limit,
        now,
    )
    if not found:
        return [], after_id
    rows = [
        Row(
            int(c["id"]),
            c["channel"],
            c["endpoint"],
            c["p256dh"],
            c["auth"],
            c["language"],
            c["pruned_at"] is None,
        )
        for c in found
    ]
    return rows, rows[-1].id


def _claim_sqlite(
    c: sqlite3.Connection,
    notice_id: uuid.UUID,
    event: str,
    after_id: int,
    limit: int,
    now: datetime,
    stale: datetime,
) -> tuple[list[Row], int]:
    # Inside BEGIN IMMEDIATE nobody else writes: the rows read are exactly the rows updated.
    found = c.execute(
        'SELECT d."id", d."channel", r."endpoint", r."p256dh", r."auth", r."language", '
        'r."pruned_at" IS NULL FROM "push_delivery" d JOIN "push_registration" r ON r."id" = d."registration" '
        'WHERE d."notice" = ? AND d."event" = ? AND d."id" > ? '
        "AND (d.\"status\" IN ('pending', 'retry') OR (d.\"status\" = 'sending' AND d.\"claimed_at\" < ?)) "
        'ORDER BY d."id" LIMIT ?',
        (notice_id, event, after_id, stale, limit),
    ).fetchall()
    if not found:
        return [], after_id
    last = found[-1][0]
    c.execute(
        'UPDATE "push_delivery" SET "status" = \'sending\', "claimed_at" = ?, "attempts" = "attempts" + 1 '
        'WHERE "notice" = ? AND "event" = ? AND "id" > ? AND "id" <= ? '
        "AND (\"status\" IN ('pending', 'retry') OR (\"status\" = 'sending' AND \"claimed_at\" < ?))",
        (now, notice_id, event, after_id, last, stale),
    )
    return list(map(_as_row, found)), last


async def record_and_claim(
    rt: Runtime,
    notice_id: uuid.UUID,
    event: str,
    done: Outcomes | None,
    after_id: int,
    limit: int,
    *,
    published_only: bool,
) -> tuple[str | None, list[Row], int]:
    """Write the last page's outcomes, then claim the next page: (notice status, rows, last id
    looked at). With ``published_only`` nothing is claimed unless the notice is still published
    (its status is read after the outcomes are written and returned for the caller to act on).

    On SQLite all of it is one transaction (one thread hop and one commit a page instead of
    three); if it fails, nothing of it is written, and the caller writes the outcomes on their own
    (:class:`~backend.citizen.push.channel.FanOut` does, before the error goes on). On PostgreSQL
    the outcomes are written first (their own transaction), then the claim is one statement as in
    :func:`claim`."""
    now = rt.clock.now()
    stale = now - SENDING_LEASE
    if rt.db.dialect == "sqlite":

        def work(c: sqlite3.Connection) -> tuple[str | None, list[Row], int]:
            if done is not None:
                write_sqlite(c, done)
            status = None
            if published_only:
                found = c.execute(_STATUS_SQL.replace("{}", "?"), (notice_id,)).fetchone()
                status = None if found is None else str(found[0])
                if status != "published":
                    return status, [], after_id
            rows, last = _claim_sqlite(c, notice_id, event, after_id, limit, now, stale)
            return status, rows, last

        return await rt.db.sqlite_batch(work)
    if done is not None:
        await asyncio.shield(write(rt, done))
    status = None
    if published_only:
        value = await rt.db.fetchval(_STATUS_SQL, notice_id)
        status = None if value is None else str(value)
        if status != "published":
            return status, [], after_id
    rows, last = await claim(rt, notice_id, event, after_id, limit)
    return status, rows, last


async def open_count(rt: Runtime, notice_id: uuid.UUID, event: str) -> int:
    value = await rt.db.fetchval(
        'SELECT COUNT(*) AS n FROM "push_delivery" WHERE "notice" = {} AND "event" = {} '
        "AND \"status\" IN ('pending', 'sending', 'retry')",
        notice_id,
        event,
    )
    return int(value or 0)
