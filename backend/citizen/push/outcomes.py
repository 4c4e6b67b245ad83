"""A sent page's outcomes as writes to its delivery rows: each row's status, HTTP status and error,
rows never started back to pending, and the registrations the push services said are gone pruned.
Built in the event loop from the results, written in one transaction — on SQLite in the same one as
the next page's claim (:func:`~backend.citizen.push.deliveries.record_and_claim`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from backend.adapters.push import SendResult
from backend.runtime import Runtime

if TYPE_CHECKING:
    from backend.citizen.push.deliveries import Row

CHUNK = 500
STATUS_FOR = {"sent": "sent", "gone": "pruned", "retry": "retry", "failed": "failed", "skipped": "skipped"}


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Outcomes(NamedTuple):
    """A page's outcomes as writes: (status, http status, error, done at, ids) groups, the rows
    never started (back to pending) and (at, reason, delivery id) of registrations to prune."""

    updates: list[tuple[str, int | None, str, datetime | None, list[int]]]
    unstarted: list[int]
    pruned: list[tuple[datetime, str, int]]


def of_page(
    rows: Sequence[Row], results: dict[int, SendResult], started: set[int], *, final: bool, now: datetime
) -> Outcomes:
    """Each row's outcome; rows never started go back to pending, in-flight ones stay claimed."""
    groups: dict[tuple[str, int | None, str], list[int]] = {}
    gone: dict[int, str] = {}
    unstarted: list[int] = []
    for row in rows:
        result = results.get(row.id)
        if result is None:
            if row.id not in started:
                unstarted.append(row.id)
            continue
        status = STATUS_FOR[result.outcome]
        error = result.error
        if status == "retry" and final:
            status, error = "failed", f"gave up after repeated retries: {error}"
        groups.setdefault((status, result.status, error[:255]), []).append(row.id)
        if status == "pruned":
            gone[row.id] = f"gone: HTTP {result.status}" if result.status else "gone"
    updates = [
        (status, http_status, error, now if status != "retry" else None, ids)
        for (status, http_status, error), ids in groups.items()
    ]
    return Outcomes(updates, unstarted, [(now, reason, delivery_id) for delivery_id, reason in gone.items()])


async def record(
    rt: Runtime,
    rows: Sequence[Row],
    results: dict[int, SendResult],
    started: set[int],
    *,
    final: bool,
) -> None:
    """Write each outcome; rows never started go back to pending, in-flight ones stay claimed."""
    await write(rt, of_page(rows, results, started, final=final, now=rt.clock.now()))


PRUNE_SQL = (
    'UPDATE "push_registration" SET "pruned_at" = {}, "pruned_reason" = {} '
    'WHERE "id" = (SELECT "registration" FROM "push_delivery" WHERE "id" = {}) AND "pruned_at" IS NULL'
)


def write_sqlite(c: sqlite3.Connection, done: Outcomes) -> None:
    for status, http_status, error, done_at, ids in done.updates:
        for part in chunks(ids):
            c.execute(
                'UPDATE "push_delivery" SET "status" = ?, "http_status" = ?, "error" = ?, '
                f'"done_at" = ? WHERE "id" IN ({", ".join("?" * len(part))}) AND "status" = \'sending\'',
                (status, http_status, error, done_at, *part),
            )
    for part in chunks(done.unstarted):
        c.execute(
            'UPDATE "push_delivery" SET "status" = \'pending\', "claimed_at" = NULL '
            f'WHERE "id" IN ({", ".join("?" * len(part))}) AND "status" = \'sending\'',
            tuple(part),
        )
    if done.pruned:
        c.executemany(PRUNE_SQL.replace("{}", "?"), done.pruned)


async def write(rt: Runtime, done: Outcomes) -> None:
    """Outcomes in one transaction; only rows still ``sending`` change, so a row another fan-out
    took over after a lease ran out is left alone (and writing the same outcomes twice is
    harmless). A pruned delivery's registration is pruned with it."""
    if rt.db.dialect == "sqlite":
        await rt.db.sqlite_batch(lambda c: write_sqlite(c, done))
        return
    async with rt.db.transaction():
        for status, http_status, error, done_at, ids in done.updates:
            await rt.db.execute(
                'UPDATE "push_delivery" SET "status" = {}, "http_status" = {}, "error" = {}, "done_at" = {} '
                'WHERE "id" = ANY({}::bigint[]) AND "status" = \'sending\'',
                status,
                http_status,
                error,
                done_at,
                ids,
            )
        if done.unstarted:
            await rt.db.execute(
                'UPDATE "push_delivery" SET "status" = \'pending\', "claimed_at" = NULL '
                'WHERE "id" = ANY({}::bigint[]) AND "status" = \'sending\'',
                done.unstarted,
            )
        for args in done.pruned:
            await rt.db.execute(PRUNE_SQL, *args)
