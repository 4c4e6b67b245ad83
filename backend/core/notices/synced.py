"""Notices on officials' phones: the drafts and notices in the pipeline of the areas they author in,
and the published notices that reach their areas. Officials write drafts offline: create, edit
(while still a draft) and discard them; the same rules as the web API apply (permissions by area,
categories, validity window, Vietnamese text required), and the same audit entries are written.

Per-field rules when an edit meets an edit made meanwhile on the server: the texts (title, body,
summary) go to the later sync and the replaced text is kept in the conflict; other languages merge
language by language; the category and validity window stay as the server has them; the priority
takes the higher of the two (an emergency is never silently downgraded); target areas and
attachments merge as sets (nobody's added village is dropped)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec

from backend.core.accounts.permissions import Actor, Permission, within
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.changes.services import Change, record_changes
from backend.core.notices import services as notices
from backend.core.notices.schemas import Attachment, NoticeText
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib.db import json_column
from backend.lib.errors import Conflict, DomainError, ValidationFailed
from backend.runtime import Runtime
from backend.sync import (
    Context,
    Field,
    Registry,
    Row,
    RowChanged,
    SyncedTable,
    scope_condition,
    wire,
    wire_value,
)

TABLE = "notice"
NOTICE_COLUMNS = (
    "id",
    "thread_id",
    "version",
    "references_id",
    "msg_type",
    "status",
    "category",
    "priority",
    "owner_area",
    "owner_path",
    "texts",
    "attachments",
    "valid_from",
    "valid_until",
    "created_by",
    "end_reason",
    "row_version",
    "created_at",
    "updated_at",
)
AUDIT_COLUMNS = (
    "at",
    "actor_id",
    "actor_role",
    "actor_area",
    "action",
    "target_type",
    "target_id",
    "client_addr",
    "request_id",
    "details",
)
T = TypeVar("T")
PIPELINE = ("draft", "submitted", "approved", "published")
PRIORITIES = ("normal", "priority", "emergency")

FIELDS = {
    "title": Field("client_wins"),
    "body": Field("client_wins"),
    "summary": Field("client_wins"),
    "texts": Field("merge_keys"),
    "category": Field("server_wins"),
    "priority": Field("max", order=PRIORITIES),
    "targets": Field("union"),
    "valid_from": Field("server_wins"),
    "valid_until": Field("server_wins"),
    "attachments": Field("union"),
}


class NoticeFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Types of what a phone may write; required-ness is checked on create."""

    title: str | None = None
    body: str | None = None
    summary: str | None = None
    texts: dict[str, NoticeText] | None = None
    category: str | None = None
    priority: Literal["normal", "priority", "emergency"] | None = None
    targets: list[str] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attachments: list[Attachment] | None = None


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


def _version_sql(rt: Runtime) -> str:
    """The row's version: an index probe on the change log in the row's own statement (same
    snapshot as the row)."""
    return (
        f'(SELECT max(m."seq") FROM "change_log" m WHERE m."table_name" = \'{TABLE}\' '
        f'AND m."row_id" = {_row_id_sql(rt)})'
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


async def load_encoded(rt: Runtime, actor: Actor, ids: Sequence[str]) -> dict[str, Row]:
    """Rows for ``actor``'s pages. A notice the actor may see whose encoding is kept at its
    current version comes as the whole change framed by the database around that text (``framed``:
    no Python per row but taking the bytes); the others go through :func:`_load_kept`. One
    statement per 500."""
    wanted = _uuids(ids)
    row_id = _row_id_sql(rt)
    seen, seen_args = _visible_sql(actor, "x")
    kept = wire.join_sql(rt.db.dialect, TABLE, 'x."id"')
    # The change as ChangeOut encodes it; the constant parts go as arguments (the query's text
    # takes no braces).
    framed = '{} || x."id" || {} || CAST(x."v" AS TEXT) || {} || w."body" || {}'
    frame_args = [f'{{"t":"{TABLE}","id":"', '","v":', ',"f":', "}"]
    framed = f"convert_to({framed}, 'UTF8')" if rt.db.dialect == "postgres" else f"CAST({framed} AS BLOB)"
    # PostgreSQL would fold ``x`` into the outer query and probe the row's version once per use.
    fence = " OFFSET 0" if rt.db.dialect == "postgres" else ""
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
            f'FROM (SELECT {row_id} AS "id", n."id" AS "uid", n."status", n."owner_path", '
            f'{_version_sql(rt)} AS "v" FROM "notice" n WHERE n."id" {match} AND n."id" BETWEEN {{}} AND {{}}{fence}) x '
            f"{kept}",
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


def _typed(values: dict[str, Any], kind: type[T], field: str = "f") -> T:
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([{"field": field, "reason": str(exc)}]) from exc


def _texts(values: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, NoticeText]:
    """The stored texts from the wire's flat Vietnamese fields and its other languages."""
    base = current or {}

    def pick(key: str) -> Any:
        return values[key] if key in values else base.get(key)

    others = {
        lang: _typed(t, NoticeText, f"f.texts.{lang}")
        for lang, t in (pick("texts") or {}).items()
        if lang != "vi"
    }
    vi = {"title": pick("title") or "", "body": pick("body") or "", "summary": pick("summary") or ""}
    if len(vi["title"]) > 200 or len(vi["body"]) > 20000 or len(vi["summary"]) > 300:
        raise ValidationFailed(
            [{"field": "f.title", "reason": "title ≤ 200, body ≤ 20000, summary ≤ 300 characters"}]
        )
    return {**others, "vi": NoticeText(**vi)}


async def _paths(ctx: Context, codes: list[str]) -> dict[str, str]:
    cache: dict[str, str] = ctx.cache.setdefault("area_paths", {})
    missing = [c for c in codes if c not in cache]
    if missing:
        cache.update(await areas.paths_for(ctx.rt, missing, field="targets"))
    return {c: cache[c] for c in codes}


async def _category(ctx: Context, code: str) -> None:
    checked: set[str] = ctx.cache.setdefault("categories", set())
    if code not in checked:
        await categories.require_active(ctx.rt, code)
        checked.add(code)


async def _prepare(
    ctx: Context, values: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str, str], dict[str, str]]:
    """Check a new draft exactly as ``notices.create`` does; returns its columns, owner, targets."""
    missing = [f for f in ("title", "body", "category", "priority", "targets") if not values.get(f)]
    if missing:
        raise ValidationFailed([{"field": f"f.{f}", "reason": "required"} for f in missing])
    typed = _typed(values, NoticeFields)
    texts = notices.normalise_texts(_texts(values))
    notices.check_window(typed.valid_from, typed.valid_until, ctx.rt.clock.now())
    await _category(ctx, values["category"])
    targets = await _paths(ctx, list(values["targets"]))
    owner = notices.choose_owner(ctx.actor, Permission.NOTICE_CREATE, targets, None)
    columns = {
        "category": typed.category,
        "priority": typed.priority,
        "texts": texts,
        "attachments": msgspec.to_builtins(typed.attachments or []),
        "valid_from": typed.valid_from,
        "valid_until": typed.valid_until,
    }
    return columns, owner, targets


async def create(ctx: Context, row_id: str, values: dict[str, Any]) -> None:
    columns, owner, targets = await _prepare(ctx, values)
    await create_rows(ctx, [(uuid.UUID(row_id), columns, owner, targets, ctx.seq)])


async def create_many(ctx: Context, items: list[tuple[int, str, dict[str, Any]]]) -> list[DomainError | None]:
    """Many new drafts at once (a phone back online after days): every one is checked first, the
    valid ones are then written with one statement per table."""
    results: list[DomainError | None] = []
    ready = []
    for seq, row_id, values in items:
        try:
            columns, owner, targets = await _prepare(ctx, values)
        except DomainError as exc:
            results.append(exc)
            continue
        results.append(None)
        ready.append((uuid.UUID(row_id), columns, owner, targets, seq))
    await create_rows(ctx, ready)
    return results


async def create_rows(
    ctx: Context, rows: list[tuple[uuid.UUID, dict[str, Any], tuple[str, str], dict[str, str], int]]
) -> None:
    """Insert new drafts with their targets, change-log entries and audit entries, in bulk."""
    if not rows:
        return
    now = ctx.rt.clock.now()
    actor = ctx.actor
    # One prepared statement per table (a phone back online may bring hundreds of drafts).
    await ctx.rt.db.insert_many(
        "notice",
        NOTICE_COLUMNS,
        [
            (
                notice_id,
                notice_id,
                1,
                None,
                "alert",
                "draft",
                columns["category"],
                columns["priority"],
                owner[0],
                owner[1],
                json.dumps(columns["texts"], ensure_ascii=False),
                json.dumps(columns["attachments"], ensure_ascii=False),
                columns["valid_from"],
                columns["valid_until"],
                actor.account_id,
                "",
                1,
                now,
                now,
            )
            for notice_id, columns, owner, _, _ in rows
        ],
    )
    await ctx.rt.db.insert_many(
        "notice_target",
        ("notice", "area_code", "area_path"),
        [
            (notice_id, code, path)
            for notice_id, _, _, targets, _ in rows
            for code, path in sorted(targets.items())
        ],
    )
    await record_changes(
        ctx.rt,
        [
            Change(TABLE, str(notice_id), "upsert", (owner[1], *targets.values()))
            for notice_id, _, owner, targets, _ in rows
        ],
        actor.account_id,
    )
    entries = []
    for notice_id, columns, owner, targets, seq in rows:
        grant = actor.grant_for(Permission.NOTICE_CREATE, owner[1])
        details = {
            "priority": columns["priority"],
            "targets": sorted(targets),
            **ctx.audit_details,
            "seq": seq,
        }
        entries.append(
            (
                now,
                actor.account_id,
                grant.role.value if grant else actor.kind,
                grant.area_code if grant else "",
                "notice.create",
                TABLE,
                str(notice_id),
                actor.client_addr or "",
                actor.request_id or "",
                json.dumps(details, ensure_ascii=False),
            )
        )
    await ctx.rt.db.insert_many("audit_entry", AUDIT_COLUMNS, entries)


async def update(ctx: Context, row: Row, values: dict[str, Any]) -> None:
    record, targets = row.raw
    grant = ctx.actor.require(Permission.NOTICE_EDIT, [record["owner_path"]])
    if record["status"] != "draft":
        raise Conflict(
            "invalid_state",
            message_key="error.notice_state",
            state=record["status"],
            action="edit",
            details={"status": record["status"], "action": "edit"},
        )
    typed = _typed(values, NoticeFields)
    columns: dict[Any, Any] = {}
    if {"title", "body", "summary", "texts"} & set(values):
        columns[Notice.texts] = notices.normalise_texts(_texts(values, row.data))
    if "category" in values:
        await _category(ctx, values["category"])
        columns[Notice.category] = values["category"]
    if "priority" in values:
        columns[Notice.priority] = typed.priority
    if "attachments" in values:
        columns[Notice.attachments] = msgspec.to_builtins(typed.attachments or [])
    if "valid_from" in values or "valid_until" in values:
        valid_from = typed.valid_from if "valid_from" in values else record["valid_from"]
        valid_until = typed.valid_until if "valid_until" in values else record["valid_until"]
        notices.check_window(valid_from, valid_until, ctx.rt.clock.now())
        columns[Notice.valid_from] = valid_from
        columns[Notice.valid_until] = valid_until
    new_targets = None
    if "targets" in values:
        if not values["targets"]:
            raise ValidationFailed([{"field": "f.targets", "reason": "at least one area"}])
        new_targets = await _paths(ctx, list(values["targets"]))
        notices.choose_owner(
            ctx.actor, Permission.NOTICE_EDIT, new_targets, (record["owner_area"], record["owner_path"])
        )
    try:
        await notices.write_edit(
            ctx.rt,
            ctx.actor,
            record,
            targets,
            columns,
            new_targets,
            grant,
            record["row_version"],
            ctx.audit_details,
        )
    except Conflict as exc:
        if exc.code == "stale_version":
            raise RowChanged() from exc
        raise


async def delete(ctx: Context, row: Row) -> None:
    record, targets = row.raw
    ctx.actor.require(Permission.NOTICE_EDIT, [record["owner_path"]])
    if record["status"] != "draft":
        raise Conflict(
            "invalid_state",
            message_key="error.notice_state",
            state=record["status"],
            action="delete",
            details={"status": record["status"], "action": "delete"},
        )
    try:
        await notices.discard_draft(ctx.rt, ctx.actor, record, targets, ctx.audit_details)
    except Conflict as exc:
        if exc.code == "stale_version":
            raise RowChanged() from exc
        raise


def register(registry: Registry) -> None:
    registry.add(
        SyncedTable(
            name=TABLE,
            load=load,
            load_versioned=load_versioned,
            load_encoded=load_encoded,
            ids_in_scope=ids_in_scope,
            permission=Permission.NOTICE_READ,
            ancestors=True,
            visible=visible,
            fields=FIELDS,
            schema=NoticeFields,
            create=create,
            create_many=create_many,
            update=update,
            delete=delete,
            shared=True,  # what a notice shows and who sees it follow from the grants alone
        )
    )
