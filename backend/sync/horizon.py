"""Tombstones are kept for a horizon (``KENG_SYNC_TOMBSTONE_DAYS``), not forever.

A deleted row's change-log entries (its tombstone and the history before it) are dropped once the
delete is older than the horizon, and the *floor* rises to the highest sequence dropped. A phone
whose cursor lies below the floor might have missed a delete, so it is told to reset: it replaces
its rows with a fresh snapshot and keeps its unsent mutations. The row's kept encoding goes with
its tombstone. Ledger rows past the horizon go too
(a device's ``last_seq`` still recognises any retry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from backend.runtime import Runtime
from backend.sync import wire
from backend.sync.state import get_state


@dataclass(frozen=True)
class Pruned:
    rows: int
    changes: int
    floor: int


async def prune(rt: Runtime, batch: int = 500) -> Pruned:
    cutoff = rt.clock.now() - timedelta(days=rt.settings.sync_tombstone_days)
    state = await get_state(rt)
    floor = state.floor
    rows = changes = 0
    while True:
        async with rt.db.transaction():
            gone = await rt.db.fetch(
                'SELECT "table_name", "row_id", max("seq") AS "seq" FROM "change_log" '
                'WHERE "op" = \'delete\' AND "at" < {} GROUP BY "table_name", "row_id" LIMIT {}',
                cutoff,
                batch,
            )
            for g in gone:
                seqs = [
                    int(r["seq"])
                    for r in await rt.db.fetch(
                        'SELECT "seq" FROM "change_log" WHERE "table_name" = {} AND "row_id" = {} AND "seq" <= {}',
                        g["table_name"],
                        g["row_id"],
                        g["seq"],
                    )
                ]
                for start in range(0, len(seqs), 500):
                    chunk = seqs[start : start + 500]
                    marks = ", ".join("{}" for _ in chunk)
                    await rt.db.execute(f'DELETE FROM "change_area" WHERE "seq" IN ({marks})', *chunk)
                    await rt.db.execute(f'DELETE FROM "change_log" WHERE "seq" IN ({marks})', *chunk)
                    await rt.db.execute(f'DELETE FROM "sync_origin" WHERE "seq" IN ({marks})', *chunk)
                await rt.db.execute(
                    'DELETE FROM "sync_wire" WHERE "key" = {}', wire.key(g["table_name"], g["row_id"])
                )
                changes += len(seqs)
                floor = max(floor, int(g["seq"]))
            rows += len(gone)
            await rt.db.execute('UPDATE "sync_state" SET "floor" = {} WHERE "id" = 1', floor)
        if len(gone) < batch:
            break
    await rt.db.execute('DELETE FROM "sync_mutation" WHERE "at" < {}', cutoff)
    return Pruned(rows=rows, changes=changes, floor=floor)
