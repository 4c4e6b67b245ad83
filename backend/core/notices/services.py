"""Notices: drafting, editing, versions and reading. Lifecycle steps live in ``flows.py``.

Authorisation is by area: an author needs the create/edit right on the notice's owner area and
every target must lie inside that area's subtree; readers see drafts only of areas they cover."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor, Grant, Permission, within
from backend.core.areas import services as areas
from backend.core.audit import services as audit
from backend.core.categories import services as categories
from backend.core.changes.services import record_change
from backend.core.notices.schemas import (
    Attachment,
    NewVersionIn,
    NoticeIn,
    NoticeOut,
    NoticePatch,
    NoticeText,
)
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib.db import json_column
from backend.lib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.runtime import Runtime

PUBLIC_STATES = ("published", "expired", "withdrawn", "superseded")


def normalise_texts(texts: dict[str, NoticeText]) -> dict[str, dict[str, str]]:
    """NFC everywhere; Vietnamese is required, other languages are optional translations."""
    out = {
        lang: {"title": nfc(t.title.strip()), "body": nfc(t.body.strip()), "summary": nfc(t.summary.strip())}
        for lang, t in texts.items()
    }
    errors = []
    if "vi" not in out:
        errors.append({"field": "texts.vi", "reason": "a Vietnamese version is required"})
    for lang, t in out.items():
        for key in ("title", "body"):
            if not t[key]:
                errors.append({"field": f"texts.{lang}.{key}", "reason": "must not be blank"})
    if errors:
        raise ValidationFailed(errors)
    return out


def check_window(valid_from: datetime | None, valid_until: datetime | None, now: datetime) -> None:
    errors = []
    for name, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if value is not None and value.tzinfo is None:
            errors.append({"field": name, "reason": "needs a time zone offset, e.g. +07:00"})
    if errors:
        raise ValidationFailed(errors)
    if valid_until is not None and valid_until <= now:
        errors.append({"field": "valid_until", "reason": "must be in the future"})
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        errors.append({"field": "valid_until", "reason": "must be after valid_from"})
    if errors:
        raise ValidationFailed(errors)


async def resolve_areas(
    rt: Runtime, actor: Actor, permission: Permission, targets: list[str], owner_area: str | None
) -> tuple[str, str, dict[str, str]]:
    """Return (owner code, owner path, target paths) after checking the actor may author there."""
    target_paths = await areas.paths_for(rt, targets, field="target_areas")
    owner = None
    if owner_area is not None:
        owner = (owner_area, (await areas.paths_for(rt, [owner_area], field="owner_area"))[owner_area])
    owner_code, owner_path = choose_owner(actor, permission, target_paths, owner)
    return owner_code, owner_path, target_paths


def choose_owner(
    actor: Actor, permission: Permission, target_paths: dict[str, str], owner: tuple[str, str] | None
) -> tuple[str, str]:
    """The owner area (given, or the actor's narrowest grant covering every target), checked: the
    actor holds ``permission`` there and every target lies inside it."""
    if owner is None:
        candidates = [
            g
            for g in actor.grants_with(permission)
            if all(within(p, g.area_path) for p in target_paths.values())
        ]
        if not candidates:
            actor.require(permission, target_paths.values())
            raise Forbidden("out_of_area", message_key="error.out_of_area")
        chosen = max(candidates, key=lambda g: len(g.area_path))
        owner = (chosen.area_code, chosen.area_path)
    owner_code, owner_path = owner
    actor.require(permission, [owner_path])
    outside = [code for code, path in target_paths.items() if not within(path, owner_path)]
    if outside:
        raise ValidationFailed(
            [
                {"field": "target_areas", "reason": f"{code} is outside the owner area {owner_code}"}
                for code in outside
            ]
        )
    return owner_code, owner_path


async def _load(rt: Runtime, notice_id: uuid.UUID) -> dict[str, Any]:
    row = await Notice.select().where(Notice.id == notice_id).first()
    if row is None:
        raise NotFound("notice", details={"id": str(notice_id)})
    return row


async def load_with_targets(rt: Runtime, notice_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, str]]:
    row = await _load(rt, notice_id)
    targets = await NoticeTarget.select(NoticeTarget.area_code, NoticeTarget.area_path).where(
        NoticeTarget.notice == notice_id
    )
    return row, {t["area_code"]: t["area_path"] for t in targets}


def can_read(actor: Actor, row: dict[str, Any], target_paths: dict[str, str]) -> bool:
    if actor.can(Permission.NOTICE_READ, [row["owner_path"]]):
        return True
    if row["status"] not in PUBLIC_STATES:
        return False
    scopes = actor.scope_paths(Permission.NOTICE_READ)
    return any(within(t, s) or within(s, t) for t in target_paths.values() for s in scopes)


async def get(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> NoticeOut:
    # Without the right anywhere the answer is 403 whatever the id; 404 is for other areas' notices.
    actor.require(Permission.NOTICE_READ)
    row, targets = await load_with_targets(rt, notice_id)
    if not can_read(actor, row, targets):
        # Same answer as a missing notice: another commune's drafts are not even confirmed to exist.
        raise NotFound("notice", details={"id": str(notice_id)})
    return to_schema(row, list(targets))


def to_schema(row: dict[str, Any], target_codes: list[str]) -> NoticeOut:
    texts = {lang: NoticeText(**t) for lang, t in json_column(row["texts"]).items()}
    attachments = [msgspec.convert(a, Attachment) for a in json_column(row["attachments"])]
    return NoticeOut(
        id=row["id"],
        thread_id=row["thread_id"],
        version=row["version"],
        references_id=row["references_id"],
        msg_type=row["msg_type"],
        status=row["status"],
        category=row["category"],
        priority=row["priority"],
        owner_area=row["owner_area"],
        target_areas=sorted(target_codes),
        texts=texts,
        attachments=attachments,
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        created_by=row["created_by"],
        approved_by=row["approved_by"],
        published_by=row["published_by"],
        submitted_at=row["submitted_at"],
        approved_at=row["approved_at"],
        published_at=row["published_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        row_version=row["row_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        emergency_repeat=row.get("emergency_repeat"),
        emergency_interval_s=row.get("emergency_interval_s"),
    )


async def _insert(
    rt: Runtime,
    actor: Actor,
    *,
    fields: dict[str, Any],
    owner: tuple[str, str],
    targets: dict[str, str],
    thread_id: uuid.UUID | None = None,
    version: int = 1,
    references_id: uuid.UUID | None = None,
    msg_type: str = "alert",
    notice_id: uuid.UUID | None = None,
) -> uuid.UUID:
    now = rt.clock.now()
    notice_id = notice_id or uuid.uuid4()
    await Notice.insert(
        Notice(
            id=notice_id,
            thread_id=thread_id or notice_id,
            version=version,
            references_id=references_id,
            msg_type=msg_type,
            status="draft",
            owner_area=owner[0],
            owner_path=owner[1],
            created_by=actor.account_id,
            row_version=1,
            created_at=now,
            updated_at=now,
            **fields,
        )
    )
    await _write_targets(notice_id, targets)
    await record_change(
        rt,
        table="notice",
        row_id=str(notice_id),
        op="upsert",
        area_paths=[owner[1], *targets.values()],
        actor_id=actor.account_id,
    )
    return notice_id


async def _write_targets(notice_id: uuid.UUID, targets: dict[str, str]) -> None:
    await NoticeTarget.delete().where(NoticeTarget.notice == notice_id)
    await NoticeTarget.insert(
        *[
            NoticeTarget(notice=notice_id, area_code=code, area_path=path)
            for code, path in sorted(targets.items())
        ]
    )


async def create(rt: Runtime, actor: Actor, data: NoticeIn) -> NoticeOut:
    texts = normalise_texts(data.texts)
    check_window(data.valid_from, data.valid_until, rt.clock.now())
    await categories.require_active(rt, data.category)
    owner_code, owner_path, targets = await resolve_areas(
        rt, actor, Permission.NOTICE_CREATE, data.target_areas, data.owner_area
    )
    fields = {
        "category": data.category,
        "priority": data.priority,
        "texts": texts,
        "attachments": msgspec.to_builtins(data.attachments),
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
    }
    async with rt.db.transaction():
        notice_id = await _insert(rt, actor, fields=fields, owner=(owner_code, owner_path), targets=targets)
        await audit.record(
            rt,
            actor,
            "notice.create",
            target_type="notice",
            target_id=str(notice_id),
            grant=actor.grant_for(Permission.NOTICE_CREATE, owner_path),
            details={"priority": data.priority, "targets": sorted(targets)},
        )
    return await get(rt, actor, notice_id)


async def edit(rt: Runtime, actor: Actor, notice_id: uuid.UUID, patch: NoticePatch) -> NoticeOut:
    actor.require(Permission.NOTICE_EDIT)
    row, targets = await load_with_targets(rt, notice_id)
    if not can_read(actor, row, targets):
        raise NotFound("notice", details={"id": str(notice_id)})
    grant = actor.require(Permission.NOTICE_EDIT, [row["owner_path"]])
    values: dict[Any, Any] = {}
    if patch.texts is not None:
        values[Notice.texts] = normalise_texts(patch.texts)
    if patch.category is not None:
        await categories.require_active(rt, patch.category)
        values[Notice.category] = patch.category
    if patch.priority is not None:
        values[Notice.priority] = patch.priority
    if patch.attachments is not None:
        values[Notice.attachments] = msgspec.to_builtins(patch.attachments)
    valid_from = patch.valid_from if patch.valid_from is not None else row["valid_from"]
    valid_until = patch.valid_until if patch.valid_until is not None else row["valid_until"]
    if patch.valid_from is not None or patch.valid_until is not None:
        check_window(valid_from, valid_until, rt.clock.now())
        values[Notice.valid_from] = valid_from
        values[Notice.valid_until] = valid_until
    new_targets = None
    if patch.target_areas is not None:
        _, _, new_targets = await resolve_areas(
            rt, actor, Permission.NOTICE_EDIT, patch.target_areas, row["owner_area"]
        )
    async with rt.db.transaction():
        await write_edit(rt, actor, row, targets, values, new_targets, grant, patch.row_version)
    return await get(rt, actor, notice_id)


async def write_edit(
    rt: Runtime,
    actor: Actor,
    row: dict[str, Any],
    targets: dict[str, str],
    values: dict[Any, Any],
    new_targets: dict[str, str] | None,
    grant: Grant | None,
    row_version: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Write a checked edit of a draft (only if still a draft at ``row_version``), its targets, its
    change-log entry (old and new areas) and its audit entry. Call inside a transaction."""
    notice_id = row["id"]
    updated = await (
        Notice.update(
            {**values, Notice.row_version: Notice.row_version + 1, Notice.updated_at: rt.clock.now()}
        )
        .where((Notice.id == notice_id) & (Notice.status == "draft") & (Notice.row_version == row_version))
        .returning(Notice.id)
    )
    if not updated:
        await raise_transition_conflict(rt, notice_id, "edit", row_version)
    if new_targets is not None:
        await _write_targets(notice_id, new_targets)
    paths = [row["owner_path"], *targets.values(), *(new_targets or {}).values()]
    await record_change(
        rt, table="notice", row_id=str(notice_id), op="upsert", area_paths=paths, actor_id=actor.account_id
    )
    fields = sorted(c._meta.name for c in values) + (["target_areas"] if new_targets else [])
    await audit.record(
        rt,
        actor,
        "notice.edit",
        target_type="notice",
        target_id=str(notice_id),
        grant=grant,
        details={"fields": fields, **(details or {})},
    )


async def discard_draft(
    rt: Runtime, actor: Actor, row: dict[str, Any], targets: dict[str, str], details: dict[str, Any]
) -> None:
    """Delete a draft that was never submitted (an official throwing away their own work), with its
    change-log entry (a tombstone for phones) and audit entry. Call inside a transaction."""
    grant = actor.require(Permission.NOTICE_EDIT, [row["owner_path"]])
    removed = await (
        Notice.delete()
        .where(
            (Notice.id == row["id"]) & (Notice.status == "draft") & (Notice.row_version == row["row_version"])
        )
        .returning(Notice.id)
    )
    if not removed:
        await raise_transition_conflict(rt, row["id"], "delete", row["row_version"])
    await NoticeTarget.delete().where(NoticeTarget.notice == row["id"])
    await record_change(
        rt,
        table="notice",
        row_id=str(row["id"]),
        op="delete",
        area_paths=[row["owner_path"], *targets.values()],
        actor_id=actor.account_id,
    )
    await audit.record(
        rt,
        actor,
        "notice.discard",
        target_type="notice",
        target_id=str(row["id"]),
        grant=grant,
        details=details,
    )


async def raise_transition_conflict(
    rt: Runtime, notice_id: uuid.UUID, action: str, row_version: int | None
) -> None:
    current = await _load(rt, notice_id)
    if row_version is not None and current["row_version"] != row_version:
        raise Conflict(
            "stale_version",
            message_key="error.stale_version",
            current=current["row_version"],
            details={"row_version": current["row_version"], "status": current["status"]},
        )
    raise Conflict(
        "invalid_state",
        message_key="error.notice_state",
        state=current["status"],
        action=action,
        details={"status": current["status"], "action": action},
    )


async def new_version(rt: Runtime, actor: Actor, notice_id: uuid.UUID, data: NewVersionIn) -> NoticeOut:
    """Draft an update or cancellation of a published notice; it goes through approval like any notice."""
    actor.require(Permission.NOTICE_CREATE)
    row, targets = await load_with_targets(rt, notice_id)
    if not can_read(actor, row, targets):
        raise NotFound("notice", details={"id": str(notice_id)})
    if row["status"] != "published":
        raise Conflict(
            "invalid_state",
            message_key="error.notice_state",
            state=row["status"],
            action=data.msg_type,
            details={"status": row["status"], "action": data.msg_type},
        )
    texts = normalise_texts(data.texts) if data.texts is not None else json_column(row["texts"])
    valid_from = data.valid_from if data.valid_from is not None else row["valid_from"]
    valid_until = data.valid_until if data.valid_until is not None else row["valid_until"]
    check_window(None if data.valid_from is None else valid_from, valid_until, rt.clock.now())
    category = data.category or row["category"]
    await categories.require_active(rt, category)
    owner_code, owner_path, new_targets = await resolve_areas(
        rt, actor, Permission.NOTICE_CREATE, data.target_areas or list(targets), row["owner_area"]
    )
    fields = {
        "category": category,
        "priority": data.priority or row["priority"],
        "texts": texts,
        "attachments": msgspec.to_builtins(data.attachments)
        if data.attachments is not None
        else json_column(row["attachments"]),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "end_reason": data.reason,
    }
    async with rt.db.transaction():
        latest = (
            await Notice.select(Notice.version)
            .where(Notice.thread_id == row["thread_id"])
            .order_by(Notice.version, ascending=False)
            .first()
        )
        version = int(latest["version"]) + 1 if latest else 2
        new_id = await _insert(
            rt,
            actor,
            fields=fields,
            owner=(owner_code, owner_path),
            targets=new_targets,
            thread_id=row["thread_id"],
            version=version,
            references_id=notice_id,
            msg_type=data.msg_type,
        )
        await audit.record(
            rt,
            actor,
            f"notice.{data.msg_type}",
            target_type="notice",
            target_id=str(new_id),
            grant=actor.grant_for(Permission.NOTICE_CREATE, owner_path),
            details={"references": str(notice_id), "reason": data.reason},
        )
    return await get(rt, actor, new_id)
