"""Rows kept encoded for the phones.

A page of a first login or of a hundred changes spent most of its time loading every column of
every row and encoding it again, for each phone, although the row had not changed since the last
phone got it. ``sync_wire`` keeps a row's fields as the JSON the phones get, with the version it
was encoded at. The version is the sequence of the row's last change, and every write to a synced
row records a change in the same transaction (the registry's contract), so an entry at the row's
current version is its current wire form; an older one is ignored (and replaced when the row is
next encoded).

Entries are written by the phone's own push, in the transaction of its writes (the row was loaded
after them to answer the phone anyway), and after a page for the rows it had to encode afresh —
rows written by the web API, say — so the next phone finds them encoded. A missing or stale entry
costs only the full load it replaced; nothing depends on an entry being there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from backend.sync.registry import Row

if TYPE_CHECKING:
    from backend.runtime import Runtime

_encoder = msgspec.json.Encoder()

UPSERT = (
    'ON CONFLICT ("key") DO UPDATE SET "version" = excluded."version", "body" = excluded."body" '
    'WHERE "sync_wire"."version" < excluded."version"'
)


def key(table: str, row_id: str) -> str:
    return f"{table}:{row_id}"


def join_sql(dialect: str, table: str, row_id_sql: str) -> str:
    """``LEFT JOIN`` of the kept entry (``w."version"``, ``w."body"``) of the row whose id is
    ``row_id_sql`` (text). PostgreSQL gets a primary-key probe per row: a plain join let the
    planner hash the whole table to answer a few hundred rows, and so did a bare lateral join,
    which it flattens into one (the ``LIMIT`` keeps it a probe)."""
    key = f"'{table}:' || {row_id_sql}"
    if dialect == "postgres":
        return f'LEFT JOIN LATERAL (SELECT "version", "body" FROM "sync_wire" WHERE "key" = {key} LIMIT 1) w ON true'
    return f'LEFT JOIN "sync_wire" w ON w."key" = {key}'


def set_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A row's fields as a change carries them: the ones that are set (null ones are left out)."""
    return {k: v for k, v in data.items() if v is not None}


def fields_json(data: dict[str, Any]) -> str:
    return _encoder.encode(set_fields(data)).decode()


def encode(row: Row) -> Row:
    """The row with its fields encoded now, marked for keeping."""
    row.encoded = fields_json(row.data)
    row.fresh = True
    return row


async def remember(rt: Runtime, rows: Iterable[tuple[str, Row]]) -> None:
    """Keep these rows' encodings (inside the caller's transaction); the newest version of a row
    wins, an entry is never set back to an older one."""
    latest: dict[str, tuple[int, str]] = {}
    for table, row in rows:
        if row.version <= 0:
            continue
        k = key(table, row.id)
        if k in latest and latest[k][0] >= row.version:
            continue
        latest[k] = (row.version, row.encoded if row.encoded is not None else fields_json(row.data))
    if latest:
        await rt.db.insert_many(
            "sync_wire",
            ("key", "version", "body"),
            [(k, version, body) for k, (version, body) in latest.items()],
            on_conflict=UPSERT,
        )
