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
from typing import Any

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


@dataclass(frozen=True)
class Snapshot:
    """What every round trip needs to know first, read in one statement: the state row, the
    high-water mark, the tags of the changes at it, at the phone's cursor and at the mark of the
    scan it continues, the device's row, and whether the phone's scope token is known."""

    state: State
    top: int
    top_tag: str | None  # None: the log has no change at that sequence (pruned, or none yet)
    cursor: int
    cursor_tag: str | None
    mark: int
    mark_tag: str | None
    device_account: str | None  # None: a device the server has not seen yet
    device_seq: int
    scope_known: bool

    def tags(self) -> dict[int, str]:
        """The tags of the changes read, by sequence, as a page names its cursor ("" for none)."""
        return {
            self.cursor: self.cursor_tag or "",
            self.mark: self.mark_tag or "",
            self.top: self.top_tag or "",
        }

    def history(self, seq: int) -> str | None:
        """``"<epoch>:<tag>"`` at ``seq`` if it was read (what a scan keys its listings by)."""
        for at, tag in ((self.top, self.top_tag), (self.mark, self.mark_tag), (self.cursor, self.cursor_tag)):
            if at == seq:
                return f"{self.state.epoch}:{tag}"
        return None


def _joined_tag(seq: int, r: dict[str, Any], prefix: str) -> str | None:
    if seq <= 0:
        return ""
    if r[f"{prefix}_table"] is None:
        return None
    return tag_of(seq, r[f"{prefix}_table"], r[f"{prefix}_row"], r[f"{prefix}_op"])


async def snapshot(rt: Runtime, device_id: str, cursor: int, token: str, mark: int = 0) -> Snapshot | None:
    """The round trip's starting facts in one query (nothing is written); None before the state
    row exists."""
    rows = await rt.db.fetch(
        'SELECT s."epoch", s."floor", k."value" AS "top", '
        't."table_name" AS "t_table", t."row_id" AS "t_row", t."op" AS "t_op", '
        'c."table_name" AS "c_table", c."row_id" AS "c_row", c."op" AS "c_op", '
        'm."table_name" AS "m_table", m."row_id" AS "m_row", m."op" AS "m_op", '
        'd."account", d."last_seq", '
        'EXISTS (SELECT 1 FROM "sync_scope" WHERE "token" = {}) AS "known" '
        'FROM "sync_state" s '
        'LEFT JOIN "change_counter" k ON k."id" = 1 '
        'LEFT JOIN "change_log" t ON t."seq" = k."value" '
        'LEFT JOIN "change_log" c ON c."seq" = {} '
        'LEFT JOIN "change_log" m ON m."seq" = {} '
        'LEFT JOIN "sync_device" d ON d."id" = {} '
        'WHERE s."id" = 1',
        token,
        cursor,
        mark,
        device_id,
    )
    if not rows:
        return None
    r = rows[0]
    top = int(r["top"] or 0)
    return Snapshot(
        state=State(epoch=r["epoch"], floor=int(r["floor"])),
        top=top,
        top_tag=_joined_tag(top, r, "t"),
        cursor=cursor,
        cursor_tag=_joined_tag(cursor, r, "c"),
        mark=mark,
        mark_tag=_joined_tag(mark, r, "m"),
        device_account=None if r["account"] is None else str(r["account"]),
        device_seq=int(r["last_seq"] or 0),
        scope_known=bool(r["known"]),
    )


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
    """Each row's version: the sequence of its last change (0 if it has none). One index probe per
    id on (table, row, seq), whatever the planner knows of the log's size."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, int] = {}
    probe = (
        'SELECT r."id", (SELECT max(m."seq") FROM "change_log" m '
        'WHERE m."table_name" = {} AND m."row_id" = r."id") AS "v" '
    )
    if rt.db.dialect == "postgres":
        # One array parameter: the statement's text stays the same, so it is prepared once.
        for start in range(0, len(wanted), 5000):
            rows = await rt.db.fetch(
                probe + 'FROM unnest({}::text[]) AS r("id")', table, wanted[start : start + 5000]
            )
            out.update({r["id"]: int(r["v"]) for r in rows if r["v"] is not None})
        return out
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("({})" for _ in chunk)
        rows = await rt.db.fetch(
            probe.replace('r."id"', 'r."column1"') + f"FROM (VALUES {marks}) AS r", table, *chunk
        )
        out.update({r["column1"]: int(r["v"]) for r in rows if r["v"] is not None})
    return out
