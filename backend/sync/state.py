"""The server's sync state and the facts about the change log that every request needs.

Row versions are not a column of the domain tables: a row's version is the sequence of its last
change in the change log, so every synced table has one without a schema change, and it can only
grow. A cursor's *tag* is a short hash of the change at that sequence; a phone sends it back with
its cursor, and a server whose history no longer holds that change (restored from a backup, or
rebuilt) notices at once and tells the phone to reset, instead of silently serving other changes
under the same numbers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from backend.runtime import Runtime


@dataclass(frozen=True)
class State:
    epoch: str
    floor: int


async def get_state(rt: Runtime) -> State:
    rows = await rt.db.fetch('SELECT "epoch", "floor" FROM "sync_state" WHERE "id" = 1')
    if not rows:
        await rt.db.execute(
            'INSERT INTO "sync_state" ("id", "epoch", "floor") VALUES (1, {}, 0) ON CONFLICT DO NOTHING',
            secrets.token_hex(8),
        )
        rows = await rt.db.fetch('SELECT "epoch", "floor" FROM "sync_state" WHERE "id" = 1')
    return State(epoch=rows[0]["epoch"], floor=int(rows[0]["floor"]))


async def new_epoch(rt: Runtime) -> str:
    """Start a new epoch: every phone replaces its rows with a fresh snapshot (keeping its unsent
    mutations). Run after restoring a backup (``keng sync new-epoch``)."""
    await get_state(rt)
    epoch = secrets.token_hex(8)
    await rt.db.execute('UPDATE "sync_state" SET "epoch" = {} WHERE "id" = 1', epoch)
    return epoch


def tag_of(seq: int, table: str, row_id: str, op: str) -> str:
    return hashlib.blake2b(f"{seq}:{table}:{row_id}:{op}".encode(), digest_size=5).hexdigest()


async def change_tag(rt: Runtime, seq: int) -> str | None:
    """The tag of the change at ``seq``, or None if the log has no such change."""
    if seq <= 0:
        return ""
    rows = await rt.db.fetch('SELECT "table_name", "row_id", "op" FROM "change_log" WHERE "seq" = {}', seq)
    if not rows:
        return None
    r = rows[0]
    return tag_of(seq, r["table_name"], r["row_id"], r["op"])


async def high_water(rt: Runtime) -> int:
    """The highest committed change sequence. Everything at or below it is committed and visible:
    the counter row is locked by each writer until it commits, so commits happen in sequence order."""
    return int(await rt.db.fetchval('SELECT "value" FROM "change_counter" WHERE "id" = 1') or 0)


async def versions(rt: Runtime, table: str, ids: Iterable[str]) -> dict[str, int]:
    """Each row's version: the sequence of its last change (0 if it has none)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("{}" for _ in chunk)
        rows = await rt.db.fetch(
            f'SELECT "row_id", max("seq") AS "v" FROM "change_log" WHERE "table_name" = {{}} '
            f'AND "row_id" IN ({marks}) GROUP BY "row_id"',
            table,
            *chunk,
        )
        out.update({r["row_id"]: int(r["v"]) for r in rows})
    return out
