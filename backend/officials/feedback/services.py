"""The staff queue and one report as staff see it.

The queue is read from ``feedback_handling`` joined to its report, limited to the areas where the
account may handle feedback, filtered, searched (folded, so without diacritics) and paged with
keyset cursors over (sort key, id) — no OFFSET, so page 1,000 costs what page 1 does."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.citizen.feedback.schemas import MediaOut
from backend.citizen.feedback.services import report_fields
from backend.citizen.feedback.tables import FeedbackEvent, FeedbackMedia
from backend.core.accounts.permissions import Actor, Permission
from backend.core.accounts.tables import Account
from backend.core.areas.tables import Area
from backend.lib.db import json_column
from backend.lib.errors import BadRequest, NotFound, ValidationFailed
from backend.lib.i18n import fold
from backend.lib.paging import decode_cursor, encode_cursor
from backend.officials.feedback import duplicates, flows, search, timing
from backend.officials.feedback.schemas import (
    DuplicateOut,
    HandlingOut,
    QueueFilter,
    QueueItem,
    QueuePage,
    ReporterOut,
    StaffEventOut,
    StaffFeedbackOut,
)
from backend.officials.feedback.tables import FeedbackFollower, HandlingUnit
from backend.officials.feedback.tables import FeedbackHandling as H
from backend.runtime import Runtime

EXCERPT = 200
_SORTS = {"newest": (H.created_at, False), "oldest": (H.created_at, True), "due": (H.answer_due, True)}


def is_overdue(status: str, handling: dict[str, Any], now: datetime) -> bool:
    if status not in timing.RUNNING_STATES:
        return False
    ack_late = status == "received" and handling["ack_due"] < now
    return ack_late or handling["answer_due"] < now


def handling_out(status: str, h: dict[str, Any], now: datetime, unit_names: dict[Any, str]) -> HandlingOut:
    return HandlingOut(
        unit=h["unit"],
        unit_name=unit_names.get(h["unit"]),
        triage=h["triage"],
        assignee=h["assignee"],
        ack_due=h["ack_due"],
        answer_due=h["answer_due"],
        remind_at=h["remind_at"],
        acknowledged_at=h["acknowledged_at"],
        overdue=is_overdue(status, h, now),
        escalated_to=h["escalated_to"],
        escalated_at=h["escalated_at"],
        duplicate_of=h["duplicate_of"],
        possible_duplicate=h["possible_duplicate"],
    )


async def _unit_names(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = await HandlingUnit.select(HandlingUnit.id, HandlingUnit.name).where(
        HandlingUnit.id.is_in(list(ids))
    )
    return {r["id"]: r["name"] for r in rows}


async def account_names(ids: set[Any]) -> dict[Any, str]:
    """Display names of staff accounts (full name, else username), for assignees and history."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = await Account.select(Account.id, Account.full_name, Account.username).where(
        Account.id.is_in(list(ids))
    )
    return {r["id"]: r["full_name"] or r["username"] or str(r["id"]) for r in rows}


def _bad(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": reason}])


async def queue(rt: Runtime, actor: Actor, flt: QueueFilter) -> QueuePage:
    actor.require(Permission.FEEDBACK_HANDLE)
    now = rt.clock.now()
    scopes = actor.scope_paths(Permission.FEEDBACK_HANDLE)
    scope = None
    for path in scopes:
        clause = H.path.like(f"{path}%")
        scope = clause if scope is None else scope | clause
    where = [scope]
    status = H.feedback.status
    if flt.state:
        where.append(status == flt.state)
    if flt.group:
        where.append(status.is_in(list(flows.GROUPS[flt.group])))
    if flt.category:
        where.append(H.category == flt.category)
    if flt.area:
        area = await Area.select(Area.path).where(Area.code == flt.area).first()
        if area is None:
            raise _bad("area", f"unknown area code {flt.area}")
        where.append(H.path.like(f"{area['path']}%"))
    if flt.overdue is not None:
        late = status.is_in(list(timing.RUNNING_STATES)) & (
            (H.answer_due < now) | ((status == "received") & (H.ack_due < now))
        )
        if flt.overdue:
            where.append(late)
        else:
            where.append(
                status.not_in(list(timing.RUNNING_STATES))
                | ((H.answer_due >= now) & ((status != "received") | (H.ack_due >= now)))
            )
    if flt.assignee:
        if flt.assignee == "none":
            where.append(H.assignee.is_null())
        else:
            try:
                who = actor.account_id if flt.assignee == "me" else uuid.UUID(flt.assignee)
            except ValueError as exc:
                raise _bad("assignee", "an account id, me or none") from exc
            where.append(H.assignee == who)
    if flt.unit:
        where.append(H.unit == flt.unit)
    if flt.triage is not None:
        where.append(H.triage == flt.triage)
    if flt.since:
        where.append(H.created_at >= flt.since)
    if flt.until:
        where.append(H.created_at < flt.until)
    words = [w for w in (word.replace("%", "").replace("_", "") for word in fold(flt.q or "").split()) if w]
    column, ascending = _SORTS[flt.sort]
    if flt.cursor:
        key = decode_cursor(flt.cursor)
        try:
            if key.get("s") != flt.sort:
                raise ValueError("cursor of another sort")
            value, last = datetime.fromisoformat(key["v"]), uuid.UUID(key["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                "bad_cursor", details={"field": "cursor", "reason": "not a cursor from this API"}
            ) from exc
        where += search.after(column, ascending, value, last)
    columns = (*H.all_columns(), H.feedback.token, H.feedback.status, H.feedback.area_code, H.feedback.text)
    rows = await search.read(rt.db.dialect, columns, where, words, column, ascending, flt.limit + 1)
    page = rows[: flt.limit]
    names = await _unit_names({r["unit"] for r in page})
    items = [
        QueueItem(
            id=r["id"],
            token=r["feedback.token"],
            category=r["category"],
            status=r["feedback.status"],
            group=flows.group_of(r["feedback.status"]),
            area_code=r["feedback.area_code"],
            path=r["path"],
            excerpt=r["feedback.text"][:EXCERPT],
            created_at=r["created_at"],
            handling=handling_out(r["feedback.status"], r, now, names),
        )
        for r in page
    ]
    next_cursor = None
    if len(rows) > flt.limit:
        last_row = page[-1]
        sort_value = last_row["created_at"] if flt.sort != "due" else last_row["answer_due"]
        next_cursor = encode_cursor({"s": flt.sort, "v": sort_value.isoformat(), "id": str(last_row["id"])})
    return QueuePage(items=items, next_cursor=next_cursor)


def may_see_reporter(actor: Actor, row: dict[str, Any], path: str) -> bool:
    """Never for an anonymous report, and only for a role allowed to know — in every view and export."""
    return not row["anonymous"] and actor.grant_for(Permission.FEEDBACK_IDENTITY, path) is not None


def reporter_out(row: dict[str, Any], account: dict[str, Any] | None) -> ReporterOut:
    """The contact the report gave, completed from the reporter's account (``full_name``, ``phone``)."""
    contact = json_column(row["contact"], {})
    name = " ".join(filter(None, [contact.get("first_name", ""), contact.get("last_name", "")]))
    phone = contact.get("phone", "")
    if account:
        name = name or account["full_name"]
        phone = phone or (account["phone"] or "")
    return ReporterOut(account_id=row["account"], name=name, phone=phone, email=contact.get("email", ""))


async def _reporter(actor: Actor, row: dict[str, Any], path: str) -> ReporterOut | None:
    if not may_see_reporter(actor, row, path):
        return None
    account = None
    if row["account"] is not None:
        account = (
            await Account.select(Account.full_name, Account.phone).where(Account.id == row["account"]).first()
        )
    return reporter_out(row, account)


async def handling_row(feedback_id: uuid.UUID) -> dict[str, Any]:
    h = await H.select().where(H.feedback == feedback_id).first()
    if h is None:
        raise NotFound("feedback")
    return h


async def get(rt: Runtime, actor: Actor, feedback_id: uuid.UUID) -> StaffFeedbackOut:
    row, _, path = await flows.load(rt, actor, feedback_id)
    h = await handling_row(feedback_id)
    now = rt.clock.now()
    events = (
        await FeedbackEvent.select().where(FeedbackEvent.feedback == feedback_id).order_by(FeedbackEvent.id)
    )
    media = (
        await FeedbackMedia.select(
            FeedbackMedia.kind, FeedbackMedia.mime, FeedbackMedia.size, FeedbackMedia.sha256
        )
        .where(FeedbackMedia.feedback == feedback_id)
        .order_by(FeedbackMedia.position)
    )
    merged = await H.select(H.id).where(H.duplicate_of == feedback_id).order_by(H.created_at)
    followers = await FeedbackFollower.count().where(FeedbackFollower.feedback == feedback_id)
    suggestions = [] if row["status"] == "duplicate" else await duplicates.suggest(row)
    names = await _unit_names({h["unit"]})
    return StaffFeedbackOut(
        **report_fields(row),
        group=flows.group_of(row["status"]),
        path=path,
        reporter=await _reporter(actor, row, path),
        media=[MediaOut(**m) for m in media],
        handling=handling_out(row["status"], h, now, names),
        duplicates=[m["id"] for m in merged],
        followers=followers,
        suggested_duplicates=[
            DuplicateOut(
                id=o["id"],
                token=o["token"],
                status=o["status"],
                excerpt=o["text"][:EXCERPT],
                created_at=o["created_at"],
                score=score,
            )
            for o, score in suggestions
            if o["id"] != h["duplicate_of"]
        ],
        history=[
            StaffEventOut(
                at=e["at"],
                kind=e["kind"],
                public=e["public"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                text=e["text"],
                rating=e["rating"],
                actor_role=e["actor_role"],
                actor_id=e["actor_id"],
            )
            for e in events
        ],
    )
