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
import uuid
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec

from backend.core.accounts.permissions import Permission
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.changes.services import Change, record_changes
from backend.core.notices import services as notices
from backend.core.notices.schemas import Attachment, NoticeText
from backend.core.notices.synced_rows import (
    TABLE,
    framed_in_scope,
    ids_in_scope,
    load,
    load_encoded,
    load_versioned,
    visible,
)
from backend.core.notices.tables import Notice
from backend.lib.errors import Conflict, DomainError, ValidationFailed
from backend.sync import (
    Context,
    Field,
    Registry,
    Row,
    RowChanged,
    SyncedTable,
)

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
            framed_in_scope=framed_in_scope,
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
