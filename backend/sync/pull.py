"""Incremental pull: the rows changed after the phone's cursor, within its scope, in byte-bounded pages.

The cursor is a change-log sequence. The page is read only up to the high-water mark taken *before*
reading: every change at or below it is committed (writers hold the counter row until they commit,
so they commit in sequence order), hence a cursor never jumps over a change that commits later —
there are no gaps, on SQLite or on PostgreSQL with many writers.

Changes are narrowed to the phone's areas by their recorded area paths, then grouped per row; each
row goes out once, as it is *now* (all fields), or as a removal when it is gone or no longer in the
phone's scope. Rows whose every change in the window came from this very phone are not sent back:
the phone already has them (its mutations' answers carried what the server added). Rows are ordered
by their last change, and a page ends after the last row that fits the byte budget; its cursor is
that row's last change, so the next page picks up exactly where this one stopped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec

from backend.core.accounts.permissions import Actor
from backend.runtime import Runtime
from backend.sync import wire
from backend.sync.registry import Registry, Row, SyncedTable, ancestor_paths
from backend.sync.schemas import ChangeOut
from backend.sync.source import like_prefix
from backend.sync.state import high_water, tag_of, versions

WINDOW = 2000  # change-log entries read per page at most
_encoder = msgspec.json.Encoder()


@dataclass
class Page:
    changes: list[msgspec.Raw]  # encoded ChangeOut
    cursor: int
    tag: str
    more: bool
    bytes: int = 0
    stats: dict[str, int] = field(default_factory=dict)


def area_filter(registry: Registry, actors: Sequence[Actor]) -> tuple[list[str], list[str]]:
    """(prefixes, exact ancestor paths) whose changes may concern these actors' phones."""
    prefixes: set[str] = set()
    above: set[str] = set()
    for actor in actors:
        for table in registry:
            scopes = table.scope_paths(actor)
            prefixes.update(scopes)
            if table.ancestors:
                above.update(a for s in scopes for a in ancestor_paths(s))
    # A prefix inside another prefix adds nothing.
    kept = sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))
    return kept, sorted(above)


def encoded(change: ChangeOut) -> msgspec.Raw:
    """The change as it goes on the wire, encoded once: its length bounds the page, and the answer
    embeds these bytes as they are instead of encoding every change a second time."""
    return msgspec.Raw(_encoder.encode(change))


def wire_change(table: SyncedTable, actor: Actor, row_id: str, row: Row | None) -> msgspec.Raw:
    """:func:`change_out`, encoded. A visible row kept encoded is framed around its kept text
    directly — the bytes msgspec would write for that ``ChangeOut``, at a fraction of the cost per
    row of a first login's thousands."""
    if row is not None and row.framed is not None:
        return msgspec.Raw(row.framed)
    if row is not None and row.encoded is not None and row.version > 0 and table.is_visible(actor, row):
        return msgspec.Raw(
            f'{{"t":{_text(table.name)},"id":{_text(row_id)},"v":{row.version},"f":{row.encoded}}}'
        )
    return encoded(change_out(table, actor, row_id, row))


def _text(value: str) -> str:
    """A JSON string; ids and table names are plain ASCII, anything else is escaped by msgspec."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return _encoder.encode(value).decode()


def change_out(table: SyncedTable, actor: Actor, row_id: str, row: Row | None) -> ChangeOut:
    if row is None or not table.is_visible(actor, row):
        return ChangeOut(t=table.name, id=row_id, rm=True)
    if row.encoded is not None:
        return ChangeOut(t=table.name, id=row_id, v=row.version, f=msgspec.Raw(row.encoded))  # type: ignore[arg-type]
    return ChangeOut(t=table.name, id=row_id, v=row.version, f=wire.set_fields(row.data))


async def load_rows(
    rt: Runtime, table: SyncedTable, ids: Sequence[str], marks: Mapping[str, int] | None = None
) -> dict[str, Row]:
    """Rows with their versions; versions are read first (or were, by the caller: ``marks``), so a
    version never runs ahead of the data sent with it (a change in between only makes the phone
    receive the row once more)."""
    if marks is None:
        if table.load_versioned is not None:
            return await table.load_versioned(rt, ids)
        marks = await versions(rt, table.name, ids)
    rows = await table.load(rt, ids)
    for row_id, row in rows.items():
        row.version = marks.get(row_id, 0)
    return rows


async def page_rows(
    rt: Runtime,
    table: SyncedTable,
    actor: Actor,
    ids: Sequence[str],
    fresh: list[tuple[str, Row]] | None,
    marks: Mapping[str, int] | None = None,
) -> dict[str, Row]:
    """Rows for a page: encoded where the table keeps encodings (``fresh``, if given, collects the
    rows encoded now, for the caller to keep once the page is read), else loaded as for anything
    else."""
    if table.load_encoded is None:
        return await load_rows(rt, table, ids, marks)
    rows = await table.load_encoded(rt, actor, ids)
    if fresh is not None:
        fresh.extend((table.name, row) for row in rows.values() if row.fresh)
    return rows


async def pull(
    rt: Runtime,
    registry: Registry,
    actor: Actor,
    device_id: str,
    cursor: int,
    max_bytes: int,
    wide: Actor | None = None,
    wide_until: int = 0,
    top: int | None = None,
    tags: Mapping[int, str] | None = None,
    fresh: list[tuple[str, Row]] | None = None,
) -> Page:
    """One page after ``cursor``. ``top``: the high-water mark if the caller read it already (in
    this request, before anything was written); ``tags``: tags of changes the caller knows;
    ``fresh``: collects the rows encoded afresh (:func:`page_rows`)."""
    if top is None:
        top = await high_water(rt)
    known = dict(tags or {})
    limit_to = top
    actors = [actor]
    if wide is not None and cursor < wide_until:
        # Within a scope change's transition window the old scope's areas are read too, so a row the
        # phone holds under its old scope is removed even if it moved away before the change.
        actors.append(wide)
        limit_to = min(top, wide_until)
    if cursor >= limit_to:
        return Page(changes=[], cursor=cursor, tag=await _tag(rt, cursor, known), more=False)
    prefixes, above = area_filter(registry, actors)
    entries = await _window(rt, registry.names, device_id, cursor, limit_to, prefixes, above)
    complete = len(entries) < WINDOW
    window_end = limit_to if complete else entries[-1].seq
    if not entries:
        return Page(
            changes=[], cursor=window_end, tag=await _tag(rt, window_end, known), more=window_end < top
        )

    # Per row: its changes in the window, whether all of them are this phone's own, its version.
    rows_seen: dict[tuple[str, str], _Seen] = {}
    by_seq = {e.seq: e for e in entries}  # a tag is worked out only for the entry the cursor names
    for e in entries:
        seen = rows_seen.get((e.table, e.row_id))
        if seen is None:
            rows_seen[(e.table, e.row_id)] = _Seen(last=e.seq, own=e.own, version=e.version)
        else:
            seen.last = e.seq
            seen.own = seen.own and e.own
            seen.version = max(seen.version, e.version)
    order = sorted(rows_seen.items(), key=lambda item: item[1].last)
    wanted: dict[str, dict[str, int]] = {}
    for (table_name, row_id), seen in order:
        if not seen.own:
            wanted.setdefault(table_name, {})[row_id] = seen.version
    loaded: dict[str, dict[str, Row]] = {}
    for table_name, marks in wanted.items():
        table = registry.get(table_name)
        if table is not None:
            loaded[table_name] = await page_rows(rt, table, actor, list(marks), fresh, marks)

    changes: list[msgspec.Raw] = []
    used = 0
    new_cursor = window_end
    cut = False
    for (table_name, row_id), seen in order:
        table = registry.get(table_name)
        if table is None or seen.own:
            continue
        change = wire_change(table, actor, row_id, loaded[table_name].get(row_id))
        size = len(change) + 1
        if changes and used + size > max_bytes:
            # Stop before this row: the cursor covers every row whose last change came earlier.
            new_cursor = seen.last - 1
            cut = True
            break
        changes.append(change)
        used += size
    if cut:
        # Everything at or below new_cursor whose row is not in the page was skipped (own or
        # unknown table) or belongs to a row already sent; the cursor may safely stand there.
        new_cursor = max(new_cursor, cursor)
    more = cut or not complete or window_end < top
    at = by_seq.get(new_cursor)
    tag = tag_of(at.seq, at.table, at.row_id, at.op) if at is not None else await _tag(rt, new_cursor, known)
    return Page(changes=changes, cursor=new_cursor, tag=tag, more=more, bytes=used)


@dataclass
class _Seen:
    last: int  # the row's last change in the window
    own: bool  # every change of the row in the window came from this phone
    version: int  # the row's last change of all, read with the window (with its others' changes)


class Entry(NamedTuple):
    seq: int
    table: str
    row_id: str
    op: str
    own: bool
    version: int


async def _window(
    rt: Runtime,
    tables: list[str],
    device_id: str,
    cursor: int,
    top: int,
    prefixes: list[str],
    above: list[str],
) -> list[Entry]:
    """The change-log entries after ``cursor`` up to ``top`` that concern these areas, each with
    whether this device's mutation made it and its row's version (the row's last change), in one
    statement. The areas are matched within the sequence range first, so the cost follows the
    window, not the size of the log."""
    if not tables or not (prefixes or above):
        return []
    conditions = ["a.\"area_path\" LIKE {} ESCAPE '\\'" for _ in prefixes]
    args: list[object] = [like_prefix(p) for p in prefixes]
    if above:
        conditions.append(f'a."area_path" IN ({", ".join("{}" for _ in above)})')
        args.extend(above)
    table_marks = ", ".join("{}" for _ in tables)
    sql = (
        'SELECT l."seq", l."table_name", l."row_id", l."op", o."seq" AS "own", '
        'CASE WHEN o."seq" IS NULL THEN (SELECT max(m."seq") FROM "change_log" m '
        'WHERE m."table_name" = l."table_name" AND m."row_id" = l."row_id") END AS "v" '
        'FROM "change_log" l LEFT JOIN "sync_origin" o ON o."seq" = l."seq" AND o."device_id" = {} '
        f'WHERE l."seq" > {{}} AND l."seq" <= {{}} AND l."table_name" IN ({table_marks}) '
        'AND l."seq" IN (SELECT a."seq" FROM "change_area" a WHERE a."seq" > {} AND a."seq" <= {} AND '
        f"({' OR '.join(conditions)})) "
        f'ORDER BY l."seq" LIMIT {WINDOW}'
    )
    rows = await rt.db.fetch(sql, device_id, cursor, top, *tables, cursor, top, *args)
    return [
        Entry(
            seq=int(r["seq"]),
            table=r["table_name"],
            row_id=r["row_id"],
            op=r["op"],
            own=r["own"] is not None,
            version=int(r["v"] or 0),
        )
        for r in rows
    ]


async def _tag(rt: Runtime, seq: int, known: Mapping[int, str] | None = None) -> str:
    if seq <= 0:
        return ""
    if known is not None and seq in known:
        return known[seq]
    rows = await rt.db.fetch('SELECT "table_name", "row_id", "op" FROM "change_log" WHERE "seq" = {}', seq)
    if not rows:
        return ""
    return tag_of(seq, rows[0]["table_name"], rows[0]["row_id"], rows[0]["op"])
