"""The notice lifecycle: draft → submitted → approved → published → expired | withdrawn.

Every step is one conditional UPDATE (``WHERE status IN (...)``) inside a transaction with its
audit entry, change-log entry and — on publish — one outbox row per channel. Two approvers racing
on one notice therefore cannot both win: the loser's UPDATE matches no row and gets a 409."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.audit import services as audit
from backend.core.changes.services import Change, record_changes
from backend.core.notices.schemas import (
    EMERGENCY_INTERVAL_MAX_S,
    EMERGENCY_INTERVAL_MIN_S,
    EMERGENCY_REPEAT_MAX,
    EMERGENCY_REPEAT_MIN,
    ActionIn,
    EmergencyPublishIn,
    NoticeOut,
)
from backend.core.notices.services import can_read, get, load_with_targets, raise_transition_conflict
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox import services as outbox
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.runtime import Runtime


def channels_for(priority: str) -> list[str]:
    """Every notice goes to push, loudspeakers, e-boards, CAP and SMS. The SMS channel decides
    who: emergencies reach every citizen who opted in to SMS, other notices only those who asked
    for every notice."""
    return ["push", "mqtt", "eboard", "cap", "sms"]


async def _authorise(
    rt: Runtime, actor: Actor, notice_id: uuid.UUID, permission: Permission, *, over_targets: bool
) -> tuple[dict[str, Any], dict[str, str], Grant | None]:
    # Lacking the permission altogether is 403 before anything about the notice is revealed;
    # holding it but not over this notice's area is 404 below (the notice is not visible).
    actor.require(permission)
    row, targets = await load_with_targets(rt, notice_id)
    if not can_read(actor, row, targets):
        raise NotFound("notice", details={"id": str(notice_id)})
    paths = list(targets.values()) if over_targets else [row["owner_path"]]
    return row, targets, actor.require(permission, paths)


async def _step(
    rt: Runtime,
    actor: Actor,
    notice_id: uuid.UUID,
    *,
    action: str,
    from_states: Iterable[str],
    values: dict[Any, Any],
    body: ActionIn,
    row: dict[str, Any],
    targets: dict[str, str],
    grant: Grant | None,
    extra_details: dict[str, Any] | None = None,
) -> None:
    """Apply one transition, or raise 409 saying why it could not be applied."""
    condition = (Notice.id == notice_id) & Notice.status.is_in(list(from_states))
    if body.row_version is not None:
        condition &= Notice.row_version == body.row_version
    now = rt.clock.now()
    updated = await (
        Notice.update({**values, Notice.row_version: Notice.row_version + 1, Notice.updated_at: now})
        .where(condition)
        .returning(Notice.id)
    )
    if not updated:
        await raise_transition_conflict(rt, notice_id, action.split(".")[-1], body.row_version)
    await record_changes(
        rt,
        [
            Change(
                table="notice",
                row_id=str(notice_id),
                op="upsert",
                area_paths=(row["owner_path"], *targets.values()),
            )
        ],
        actor.account_id,
    )
    details = {"from": row["status"], "reason": body.reason, **(extra_details or {})}
    await audit.record(
        rt, actor, action, target_type="notice", target_id=str(notice_id), grant=grant, details=details
    )


async def submit(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    row, targets, grant = await _authorise(rt, actor, notice_id, Permission.NOTICE_SUBMIT, over_targets=False)
    async with rt.db.transaction():
        await _step(
            rt,
            actor,
            notice_id,
            action="notice.submit",
            from_states=["draft"],
            values={Notice.status: "submitted", Notice.submitted_at: rt.clock.now()},
            body=body,
            row=row,
            targets=targets,
            grant=grant,
        )
    return await get(rt, actor, notice_id)


async def return_to_draft(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    row, targets, grant = await _authorise(rt, actor, notice_id, Permission.NOTICE_RETURN, over_targets=True)
    async with rt.db.transaction():
        await _step(
            rt,
            actor,
            notice_id,
            action="notice.return",
            from_states=["submitted", "approved"],
            values={Notice.status: "draft", Notice.approved_by: None, Notice.approved_at: None},
            body=body,
            row=row,
            targets=targets,
            grant=grant,
        )
    return await get(rt, actor, notice_id)


async def approve(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    row, targets, grant = await _authorise(rt, actor, notice_id, Permission.NOTICE_APPROVE, over_targets=True)
    async with rt.db.transaction():
        await _step(
            rt,
            actor,
            notice_id,
            action="notice.approve",
            from_states=["submitted"],
            values={
                Notice.status: "approved",
                Notice.approved_by: actor.account_id,
                Notice.approved_at: rt.clock.now(),
            },
            body=body,
            row=row,
            targets=targets,
            grant=grant,
        )
    return await get(rt, actor, notice_id)


async def publish(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    row, targets, grant = await _authorise(rt, actor, notice_id, Permission.NOTICE_PUBLISH, over_targets=True)
    async with rt.db.transaction():
        await _publish(
            rt, actor, row, targets, grant, body, from_states=["approved"], action="notice.publish"
        )
    return await get(rt, actor, notice_id)


async def emergency_publish(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    """Approve and publish an emergency notice in one step ("phát ngay"), audited as such, with
    the repeat count and interval the approver chose (``EmergencyPublishIn``)."""
    row, targets, grant = await _authorise(
        rt, actor, notice_id, Permission.NOTICE_EMERGENCY_PUBLISH, over_targets=True
    )
    if row["priority"] != "emergency":
        raise Conflict(
            "not_emergency", message_key="error.not_emergency", details={"priority": row["priority"]}
        )
    _check_emergency_plan(body)
    now = rt.clock.now()
    async with rt.db.transaction():
        await _publish(
            rt,
            actor,
            row,
            targets,
            grant,
            body,
            from_states=["draft", "submitted", "approved"],
            action="notice.emergency_publish",
            extra={
                Notice.approved_by: actor.account_id,
                Notice.approved_at: now,
                Notice.submitted_at: row["submitted_at"] or now,
            },
        )
    return await get(rt, actor, notice_id)


def _check_emergency_plan(body: ActionIn) -> None:
    """The HTTP schema already bounds both values; callers inside the server get the same check
    before anything is written."""
    if not isinstance(body, EmergencyPublishIn):
        return
    errors = []
    if body.repeat is not None and not EMERGENCY_REPEAT_MIN <= body.repeat <= EMERGENCY_REPEAT_MAX:
        errors.append(
            {"field": "repeat", "reason": f"between {EMERGENCY_REPEAT_MIN} and {EMERGENCY_REPEAT_MAX} plays"}
        )
    if body.interval_s is not None and not (
        EMERGENCY_INTERVAL_MIN_S <= body.interval_s <= EMERGENCY_INTERVAL_MAX_S
    ):
        errors.append(
            {
                "field": "interval_s",
                "reason": f"between {EMERGENCY_INTERVAL_MIN_S} and {EMERGENCY_INTERVAL_MAX_S} seconds",
            }
        )
    if errors:
        raise ValidationFailed(errors)


async def _emergency_plan(rt: Runtime, row: dict[str, Any], body: ActionIn) -> tuple[int, int]:
    """(repeat, interval) of an emergency version being published: what the approver chose, else
    what the version it updates played with, else the province settings."""
    chosen = body if isinstance(body, EmergencyPublishIn) else None
    previous: dict[str, Any] | None = None
    if row["references_id"] is not None:
        previous = (
            await Notice.select(Notice.emergency_repeat, Notice.emergency_interval_s)
            .where(Notice.id == row["references_id"])
            .first()
        )
    repeat = (chosen.repeat if chosen else None) or (previous or {}).get("emergency_repeat")
    interval = (chosen.interval_s if chosen else None) or (previous or {}).get("emergency_interval_s")
    return (
        repeat or rt.settings.emergency_repeat,
        interval or rt.settings.emergency_interval_seconds,
    )


async def _publish(
    rt: Runtime,
    actor: Actor,
    row: dict[str, Any],
    targets: dict[str, str],
    grant: Grant | None,
    body: ActionIn,
    *,
    from_states: list[str],
    action: str,
    extra: dict[Any, Any] | None = None,
) -> None:
    now = rt.clock.now()
    notice_id = row["id"]
    values: dict[Any, Any] = {
        Notice.status: "published",
        Notice.published_by: actor.account_id,
        Notice.published_at: now,
        **(extra or {}),
    }
    details: dict[str, Any] = {"channels": channels_for(row["priority"]), "priority": row["priority"]}
    if row["priority"] == "emergency":
        repeat, interval = await _emergency_plan(rt, row, body)
        values |= {Notice.emergency_repeat: repeat, Notice.emergency_interval_s: interval}
        details |= {"repeat": repeat, "interval_s": interval}
    await _step(
        rt,
        actor,
        notice_id,
        action=action,
        from_states=from_states,
        values=values,
        body=body,
        row=row,
        targets=targets,
        grant=grant,
        extra_details=details,
    )
    if row["references_id"] is not None:
        await _end_previous(rt, actor, row)
    payload = {
        "notice_id": str(notice_id),
        "thread_id": str(row["thread_id"]),
        "version": row["version"],
        "msg_type": row["msg_type"],
        "priority": row["priority"],
        "references_id": _str(row["references_id"]),
    }
    for channel in channels_for(row["priority"]):
        await outbox.enqueue(
            rt,
            channel=channel,
            event="published",
            aggregate_id=str(notice_id),
            payload=payload,
            urgent=row["priority"] == "emergency",
        )


async def _end_previous(rt: Runtime, actor: Actor, row: dict[str, Any]) -> None:
    """An update supersedes the version it references; a cancellation withdraws it."""
    new_status = "withdrawn" if row["msg_type"] == "cancel" else "superseded"
    previous = await (
        Notice.update(
            {
                Notice.status: new_status,
                Notice.ended_at: rt.clock.now(),
                Notice.end_reason: f"{row['msg_type']}:{row['id']}",
                Notice.row_version: Notice.row_version + 1,
            }
        )
        .where((Notice.id == row["references_id"]) & (Notice.status == "published"))
        .returning(Notice.id, Notice.owner_path)
    )
    if previous:
        paths = await NoticeTarget.select(NoticeTarget.area_path).where(
            NoticeTarget.notice == row["references_id"]
        )
        await record_changes(
            rt,
            [
                Change(
                    table="notice",
                    row_id=str(row["references_id"]),
                    op="upsert",
                    area_paths=(previous[0]["owner_path"], *(p["area_path"] for p in paths)),
                )
            ],
            actor.account_id,
        )


async def withdraw(rt: Runtime, actor: Actor, notice_id: uuid.UUID, body: ActionIn) -> NoticeOut:
    row, targets, grant = await _authorise(
        rt, actor, notice_id, Permission.NOTICE_WITHDRAW, over_targets=True
    )
    was_published = row["status"] == "published"
    async with rt.db.transaction():
        await _step(
            rt,
            actor,
            notice_id,
            action="notice.withdraw",
            from_states=["approved", "published"],
            values={
                Notice.status: "withdrawn",
                Notice.ended_at: rt.clock.now(),
                Notice.end_reason: body.reason or "withdrawn",
            },
            body=body,
            row=row,
            targets=targets,
            grant=grant,
        )
        if was_published:
            payload = {
                "notice_id": str(notice_id),
                "thread_id": str(row["thread_id"]),
                "version": row["version"],
                "priority": row["priority"],
            }
            for channel in channels_for(row["priority"]):
                await outbox.enqueue(
                    rt,
                    channel=channel,
                    event="withdrawn",
                    aggregate_id=str(notice_id),
                    payload=payload,
                    urgent=row["priority"] == "emergency",
                )
    return await get(rt, actor, notice_id)


async def expire_due(rt: Runtime) -> int:
    """Move published notices past their validity to ``expired``; run periodically by the server."""
    now = rt.clock.now()
    async with rt.db.transaction():
        rows = await (
            Notice.update(
                {
                    Notice.status: "expired",
                    Notice.ended_at: now,
                    Notice.end_reason: "valid_until",
                    Notice.row_version: Notice.row_version + 1,
                    Notice.updated_at: now,
                }
            )
            .where(
                (Notice.status == "published")
                & Notice.valid_until.is_not_null()
                & (Notice.valid_until <= now)
            )
            .returning(Notice.id, Notice.owner_path)
        )
        if not rows:
            return 0
        ids = [r["id"] for r in rows]
        target_rows = await NoticeTarget.select(NoticeTarget.notice, NoticeTarget.area_path).where(
            NoticeTarget.notice.is_in(ids)
        )
        paths: dict[Any, list[str]] = {}
        for t in target_rows:
            paths.setdefault(t["notice"], []).append(t["area_path"])
        system = Actor.system("validity window")
        await record_changes(
            rt,
            [
                Change(
                    table="notice",
                    row_id=str(r["id"]),
                    op="upsert",
                    area_paths=(r["owner_path"], *paths.get(r["id"], [])),
                )
                for r in rows
            ],
            None,
        )
        for r in rows:
            await audit.record(rt, system, "notice.expire", target_type="notice", target_id=str(r["id"]))
    return len(rows)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
