"""Record changes to synced tables with a gap-free, commit-ordered sequence.

Call :func:`record_change` inside the writer's transaction. The counter row's lock serialises
writers of synced data until they commit, which is what keeps the sequence gap-free for readers
on PostgreSQL; on SQLite writers are serialised anyway."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar

from backend.core.changes.tables import ChangeArea, ChangeLog
from backend.runtime import Runtime

Op = Literal["upsert", "delete"]
BULK = 20  # from this many changes on, rows are written with one prepared statement
T = TypeVar("T")


async def reserve_seqs(rt: Runtime, count: int) -> range:
    """Take ``count`` consecutive sequence numbers in one statement (bulk imports record thousands)."""
    value = await rt.db.fetchval(
        'UPDATE "change_counter" SET "value" = "value" + {} WHERE "id" = 1 RETURNING "value"', count
    )
    return range(int(value) - count + 1, int(value) + 1)


@dataclass(frozen=True)
class Change:
    table: str
    row_id: str
    op: Op
    area_paths: tuple[str, ...]


_captured: ContextVar[list[tuple[int, Change]] | None] = ContextVar("captured_changes", default=None)


@contextlib.contextmanager
def capture() -> Iterator[list[tuple[int, Change]]]:
    """Collect ``(seq, change)`` for every change recorded inside the block (in this task), so a
    caller can tell which changes its own work produced — sync uses it to know a phone's own writes."""
    seen: list[tuple[int, Change]] = []
    outer = _captured.get()
    token = _captured.set(seen)
    try:
        yield seen
    finally:
        _captured.reset(token)
        if outer is not None:
            outer.extend(seen)


async def record_changes(rt: Runtime, changes: Sequence[Change], actor_id: uuid.UUID | None) -> list[int]:
    if not changes:
        return []
    if rt.db.engine.current_transaction.get() is None:
        raise RuntimeError("changes must be recorded inside the transaction of the change itself")
    seqs = list(await reserve_seqs(rt, len(changes)))
    collector = _captured.get()
    if collector is not None:
        collector.extend(zip(seqs, changes, strict=True))
    now = rt.clock.now()
    if len(changes) < BULK:
        logs = [
            ChangeLog(seq=seq, table_name=c.table, row_id=c.row_id, op=c.op, actor_id=actor_id, at=now)
            for seq, c in zip(seqs, changes, strict=True)
        ]
        areas = [
            ChangeArea(seq=seq, area_path=path)
            for seq, c in zip(seqs, changes, strict=True)
            for path in sorted(set(c.area_paths))
        ]
        await ChangeLog.insert(*logs)
        if areas:  # a change may concern no area (a category, say)
            await ChangeArea.insert(*areas)
        return seqs
    # Thousands at once (a bulk import, a phone's days of records): one prepared statement each.
    await rt.db.insert_many(
        "change_log",
        ("seq", "table_name", "row_id", "op", "actor_id", "at"),
        [(seq, c.table, c.row_id, c.op, actor_id, now) for seq, c in zip(seqs, changes, strict=True)],
    )
    await rt.db.insert_many(
        "change_area",
        ("seq", "area_path"),
        [(seq, path) for seq, c in zip(seqs, changes, strict=True) for path in sorted(set(c.area_paths))],
    )
    return seqs


async def record_change(
    rt: Runtime,
    *,
    table: str,
    row_id: str,
    op: Op,
    area_paths: Iterable[str],
    actor_id: uuid.UUID | None,
) -> int:
    change = Change(table=table, row_id=row_id, op=op, area_paths=tuple(area_paths))
    return (await record_changes(rt, [change], actor_id))[0]


async def changes_since(rt: Runtime, after: int, limit: int = 1000) -> list[dict[str, object]]:
    """Changes with ``seq > after`` in order; what the sync pull reads (scoping is the sync layer's)."""
    return await ChangeLog.select().where(ChangeLog.seq > after).order_by(ChangeLog.seq).limit(limit)


async def high_water_mark(rt: Runtime) -> int:
    return int(await rt.db.fetchval('SELECT "value" FROM "change_counter" WHERE "id" = 1') or 0)
