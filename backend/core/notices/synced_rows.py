"""How notices load for officials' phones: rows by id as the phones get them, rows framed whole
for a page, and who sees which notice — the drafts and notices in the pipeline of the areas an
official reads, and the published notices that reach those areas. The rule is written in Python
(:func:`visible`), as an ORM listing (:func:`ids_in_scope`) and as SQL (:func:`_visible_sql`);
``tests/core/notices/test_synced_rows.py`` holds them to the same answer row by row."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from backend.core.accounts.permissions import Actor, Permission, within
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib.db import json_column
from backend.runtime import Runtime
from backend.sync import Row, scope_condition, wire, wire_value

TABLE = "notice"
PIPELINE = ("draft", "submitted", "approved", "published")


def to_wire(row: dict[str, Any], targets: dict[str, str]) -> dict[str, Any]:
    texts = json_column(row["texts"], {})
    vi = texts.get("vi", {})
    return {
        "thread": wire_value(row["thread_id"]),
        "ver": row["version"],
        "ref": wire_value(row["references_id"]),
        "msg": row["msg_type"],
        "status": row["status"],
        "category": row["category"],
        "priority": row["priority"],
        "owner": row["owner_area"],
        "targets": sorted(targets),
        "title": vi.get("title", ""),
        "body": vi.get("body", ""),
        "summary": vi.get("summary", ""),
        "texts": {lang: t for lang, t in texts.items() if lang != "vi"},
        "attachments": json_column(row["attachments"], []),
        "valid_from": wire_value(row["valid_from"]),
        "valid_until": wire_value(row["valid_until"]),
        "created_by": wire_value(row["created_by"]),
        "published_at": wire_value(row["published_at"]),
        "ended_at": wire_value(row["ended_at"]),
        "rv": row["row_version"],
        # An emergency's repeat count and interval as its approver chose them (absent: the defaults).
        "repeat": row.get("emergency_repeat"),
        "interval_s": row.get("emergency_interval_s"),
    }


async def load(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    return await _load(rt, ids, versioned=False)


async def load_versioned(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    return await _load(rt, ids, versioned=True)


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuids(ids: Sequence[str]) -> list[str]:
    """The ids that are UUIDs, as the canonical text both databases take for a UUID column. Ids
    come in that form from the change log and the scope listings (a page checks hundreds), so
    only others are parsed."""
    wanted = []
    for i in ids:
        if _UUID_TEXT.fullmatch(i):
            wanted.append(i)
            continue
        try:
            wanted.append(str(uuid.UUID(i)))
        except ValueError:
            continue
    return wanted


def _row_id_sql(rt: Runtime) -> str:
    return 'n."id"::text' if rt.db.dialect == "postgres" else 'n."id"'


def _version_sql(rt: Runtime, row_id: str | None = None) -> str:
    """The row's version: an index probe on the change log in the row's own statement (same
    snapshot as the row). ``row_id``: the row's id as text (default: notice ``n``'s)."""
    return (
        f'(SELECT max(m."seq") FROM "change_log" m WHERE m."table_name" = \'{TABLE}\' '
        f'AND m."row_id" = {row_id or _row_id_sql(rt)})'
    )


async def _load(rt: Runtime, ids: Sequence[str], versioned: bool) -> dict[str, Row]:
    wanted = _uuids(ids)
    out: dict[str, Row] = {}
    # One plain statement, the targets aggregated per notice: a page loads hundreds of notices,
    # and building the query through the ORM cost more than running it.
    if rt.db.dialect == "postgres":
        targets_sql = (
            'SELECT json_agg(json_build_array(t."area_code", t."area_path") ORDER BY t."area_code") '
            'FROM "notice_target" t WHERE t."notice" = n."id"'
        )
    else:
        targets_sql = (
            'SELECT json_group_array(json_array(t."area_code", t."area_path")) FROM '
            '(SELECT "area_code", "area_path" FROM "notice_target" WHERE "notice" = n."id" '
            'ORDER BY "area_code") t'
        )
    version_sql = f', {_version_sql(rt)} AS "_v"' if versioned else ""
    for start in range(0, len(wanted), 500):
        match, args = rt.db.any_of(wanted[start : start + 500], "uuid")
        records = await rt.db.fetch(
            f'SELECT n.*, ({targets_sql}) AS "_targets"{version_sql} FROM "notice" n WHERE n."id" {match}',
            *args,
        )
        for record in records:
            r = dict(record)  # inside a transaction PostgreSQL hands back its own record type
            mine = {code: path for code, path in json_column(r.pop("_targets"), [])}
            out[str(r["id"])] = Row(
                id=str(r["id"]),
                data=to_wire(r, mine),
                paths=(r["owner_path"], *mine.values()),
                version=int(r.pop("_v", None) or 0),
                raw=(r, mine),
            )
    return out


def _visible_sql(actor: Actor, row: str) -> tuple[str, list[str]]:
    """:func:`visible` as an SQL condition on ``row`` (a relation with ``uid``, ``status``,
    ``owner_path``) and its arguments. Paths are compared by exact prefix (``substr``), never by
    ``LIKE``, so no character in an area path can widen a scope. ``tests/core/notices`` holds the
    two to the same answer row by row."""
    scopes = actor.scope_paths(Permission.NOTICE_READ)
    if not scopes:
        return "1 = 0", []
    owned = " OR ".join(f'substr({row}."owner_path", 1, {len(s)}) = {{}}' for s in scopes)
    reached = " OR ".join(
        f'substr(t."area_path", 1, {len(s)}) = {{}} OR substr({{}}, 1, length(t."area_path")) = t."area_path"'
        for s in scopes
    )
    pipeline = ", ".join(f"'{status}'" for status in PIPELINE)
    sql = (
        f'(({row}."status" IN ({pipeline}) AND ({owned})) OR ({row}."status" = \'published\' AND EXISTS '
        f'(SELECT 1 FROM "notice_target" t WHERE t."notice" = {row}."uid" AND ({reached}))))'
    )
    return sql, [*scopes, *(x for s in scopes for x in (s, s))]


def _framing(rt: Runtime) -> tuple[str, list[str], str]:
    """The change as ``ChangeOut`` encodes it, framed by the database around the kept text of row
    ``x`` (``id`` as text, version ``v``; kept entry ``w``), its arguments (the constant parts: the
    query's text takes no braces), and the join of the kept entry."""
    framed = '{} || x."id" || {} || CAST(x."v" AS TEXT) || {} || w."body" || {}'
    args = [f'{{"t":"{TABLE}","id":"', '","v":', ',"f":', "}"]
    framed = f"convert_to({framed}, 'UTF8')" if rt.db.dialect == "postgres" else f"CAST({framed} AS BLOB)"
    return framed, args, wire.join_sql(rt.db.dialect, TABLE, 'x."id"')


# PostgreSQL would fold ``x`` into the outer query and probe the row's version once per use.
def _fence(rt: Runtime) -> str:
    return " OFFSET 0" if rt.db.dialect == "postgres" else ""


async def load_encoded(rt: Runtime, actor: Actor, ids: Sequence[str]) -> dict[str, Row]:
    """Rows for ``actor``'s pages. A notice the actor may see whose encoding is kept at its
    current version comes as the whole change framed by the database around that text (``framed``:
    no Python per row but taking the bytes); the others go through :func:`_load_kept`. One
    statement per 500."""
    wanted = _uuids(ids)
    seen, seen_args = _visible_sql(actor, "x")
    framed, frame_args, kept = _framing(rt)
    out: dict[str, Row] = {}
    rest: list[str] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        match, args = rt.db.any_of(chunk, "uuid")
        # The ids' range as well: a scan's chunk is a run of ids in order, which the primary key
        # finds without reading the table.
        args += [min(chunk), max(chunk)]
        records = await rt.db.fetch(
            f'SELECT x."id", x."v", CASE WHEN w."version" = x."v" AND {seen} THEN {framed} END AS "_framed" '
            f'FROM (SELECT {_row_id_sql(rt)} AS "id", n."id" AS "uid", n."status", n."owner_path", '
            f'{_version_sql(rt)} AS "v" FROM "notice" n WHERE n."id" {match} AND n."id" BETWEEN {{}} AND {{}}'
            f"{_fence(rt)}) x {kept}",
            *seen_args,
            *frame_args,
            *args,
        )
        for r in records:
            found = str(r["id"])
            if r["_framed"] is None:
                rest.append(found)
                continue
            out[found] = Row(id=found, data={}, paths=(), version=int(r["v"]), framed=bytes(r["_framed"]))
    if rest:
        out.update(await _load_kept(rt, rest))
    return out


async def framed_in_scope(rt: Runtime, actor: Actor, limit: int) -> list[tuple[str, bytes | None]] | None:
    """Every notice ``actor`` sees, in id order, each framed as :func:`load_encoded` frames it
    (None: its encoding is not kept at its current version) — one statement for a first login's
    whole listing, instead of listing the ids and then loading them page by page. None if there
    are more than ``limit``: the caller lists ids and loads pages as they are asked for."""
    if not actor.scope_paths(Permission.NOTICE_READ):
        return []
    seen, seen_args = _visible_sql(actor, "y")
    framed, frame_args, kept = _framing(rt)
    version = _version_sql(rt, 'y."id"')
    records = await rt.db.fetch(
        f'SELECT x."id", CASE WHEN w."version" = x."v" THEN {framed} END AS "_framed" '
        f'FROM (SELECT y."id", y."uid", {version} AS "v" '
        f'FROM (SELECT {_row_id_sql(rt)} AS "id", n."id" AS "uid", n."status", n."owner_path" '
        f'FROM "notice" n) y WHERE {seen} ORDER BY y."uid" LIMIT {{}}{_fence(rt)}) x {kept} ORDER BY x."uid"',
        *frame_args,
        *seen_args,
        limit + 1,
    )
    if len(records) > limit:
        return None
    return [(str(r["id"]), None if r["_framed"] is None else bytes(r["_framed"])) for r in records]


async def _load_kept(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    """Rows for pages, checked in Python: a notice whose encoding is kept at its current version
    comes as that text with only what :func:`visible` reads (status, owner, target paths) — one
    light statement per 500; the others load in full and are encoded now."""
    wanted = _uuids(ids)
    # The target paths as an array the driver decodes (PostgreSQL), or JSON text (SQLite).
    agg = "array_agg" if rt.db.dialect == "postgres" else "json_group_array"
    row_id = _row_id_sql(rt)
    out: dict[str, Row] = {}
    stale: list[str] = []
    for start in range(0, len(wanted), 500):
        match, args = rt.db.any_of(wanted[start : start + 500], "uuid")
        records = await rt.db.fetch(
            f'SELECT {row_id} AS "id", n."status", n."owner_path", '
            f'(SELECT {agg}(t."area_path") FROM "notice_target" t WHERE t."notice" = n."id") AS "_paths", '
            f'{_version_sql(rt)} AS "_v", w."version" AS "_wv", w."body" AS "_wb" FROM "notice" n '
            f'{wire.join_sql(rt.db.dialect, TABLE, row_id)} WHERE n."id" {match}',
            *args,
        )
        for r in records:
            version = int(r["_v"] or 0)
            found = str(r["id"])
            if not version or r["_wv"] != version:
                stale.append(found)
                continue
            owner = r["owner_path"]
            out[found] = Row(
                id=found,
                data={},
                paths=(
                    owner,
                    *(json_column(r["_paths"], []) if isinstance(r["_paths"], str) else r["_paths"] or ()),
                ),
                version=version,
                raw=({"status": r["status"]}, None),  # what visible() reads besides the paths
                encoded=r["_wb"],
            )
    if stale:
        for row in (await _load(rt, stale, versioned=True)).values():
            out[row.id] = wire.encode(row)
    return out


def visible(actor: Actor, row: Row) -> bool:
    status = row.raw[0]["status"]
    owner, *targets = row.paths
    if status in PIPELINE and actor.grant_for(Permission.NOTICE_READ, owner) is not None:
        return True
    if status != "published":
        return False
    scopes = actor.scope_paths(Permission.NOTICE_READ)
    return any(within(t, s) or within(s, t) for t in targets for s in scopes)


async def ids_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    scopes = actor.scope_paths(Permission.NOTICE_READ)
    if not scopes:
        return []
    owned = await Notice.select(Notice.id).where(
        Notice.status.is_in(list(PIPELINE)) & scope_condition(Notice.owner_path, scopes, False)
    )
    reached = await NoticeTarget.select(NoticeTarget.notice).where(
        (NoticeTarget.notice.status == "published") & scope_condition(NoticeTarget.area_path, scopes, True)
    )
    return sorted({str(r["id"]) for r in owned} | {str(r["notice"]) for r in reached})
