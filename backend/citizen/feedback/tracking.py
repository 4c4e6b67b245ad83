"""The citizen's follow-ups on a report — add information when asked, rate the answer once, say
"not resolved" within the reopen window — and the guarded state change all handling steps share."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from backend.citizen.feedback.schemas import (
    CLOSED_STATES,
    FeedbackOut,
    InformationIn,
    NotResolvedIn,
    RatingIn,
)
from backend.citizen.feedback.services import (
    ANSWERED_STATES,
    FeedbackStateError,
    clean_text,
    get_for_owner,
    own_row,
    reopen_until,
    require_citizen,
)
from backend.citizen.feedback.tables import Feedback, FeedbackEvent
from backend.core.accounts.permissions import Actor
from backend.core.changes.services import record_change
from backend.lib.errors import Conflict
from backend.lib.i18n import nfc
from backend.officials.feedback.routing import effective_path
from backend.runtime import Runtime


async def transition(
    rt: Runtime,
    row: dict[str, Any],
    to_status: str | None,
    *,
    kind: str,
    actor_role: str,
    actor_id: uuid.UUID | None,
    text: str = "",
    rating: int | None = None,
    public: bool = True,
    extra: dict[Any, Any] | None = None,
    guard: Any = None,
) -> None:
    """Change a report's state only if it is still what the caller saw (a concurrent change → 409),
    and write the history entry in the same transaction. Call inside a transaction."""
    now = rt.clock.now()
    changes: dict[Any, Any] = {Feedback.updated_at: now, **(extra or {})}
    if to_status is not None:
        changes[Feedback.status] = to_status
    condition = (Feedback.id == row["id"]) & (Feedback.status == row["status"])
    if guard is not None:
        condition = condition & guard
    updated = await Feedback.update(changes).where(condition).returning(Feedback.id)
    if not updated:
        raise FeedbackStateError(state=row["status"], details={"status": row["status"]})
    await record_change(
        rt,
        table="feedback",
        row_id=str(row["id"]),
        op="upsert",
        area_paths=[effective_path(rt, row)],
        actor_id=actor_id,
    )
    await FeedbackEvent.insert(
        FeedbackEvent(
            feedback=row["id"],
            at=now,
            kind=kind,
            from_status=row["status"],
            to_status=to_status or "",
            text=text,
            rating=rating,
            public=public,
            actor_id=actor_id,
            actor_role=actor_role,
        )
    )


def _state_error(row: dict[str, Any], allowed: Sequence[str]) -> FeedbackStateError:
    return FeedbackStateError(
        state=row["status"], details={"status": row["status"], "allowed": list(allowed)}
    )


async def add_information(
    rt: Runtime, actor: Actor, feedback_id: uuid.UUID, data: InformationIn
) -> FeedbackOut:
    """Only when the handler asked for it; the report goes back to where it was before the question."""
    account_id = require_citizen(actor)
    text = clean_text(data.text)
    async with rt.db.transaction():
        row = await own_row(account_id, feedback_id)
        if row["status"] != "waiting_for_citizen":
            raise _state_error(row, ["waiting_for_citizen"])
        asked = (
            await FeedbackEvent.select(FeedbackEvent.from_status)
            .where((FeedbackEvent.feedback == feedback_id) & (FeedbackEvent.kind == "info_request"))
            .order_by(FeedbackEvent.id, ascending=False)
            .first()
        )
        back_to = (
            asked["from_status"] if asked and asked["from_status"] not in CLOSED_STATES else "in_progress"
        )
        await transition(
            rt, row, back_to, kind="info_added", actor_role="citizen", actor_id=account_id, text=text
        )
    return await get_for_owner(rt, account_id, feedback_id)


async def rate(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, data: RatingIn) -> FeedbackOut:
    """Once, after an answer."""
    account_id = require_citizen(actor)
    async with rt.db.transaction():
        row = await own_row(account_id, feedback_id)
        if row["rating"] is not None:
            raise Conflict(
                "already_rated", message_key="error.already_rated", details={"rating": row["rating"]}
            )
        if row["status"] not in ANSWERED_STATES:
            raise _state_error(row, ANSWERED_STATES)
        await transition(
            rt,
            row,
            None,
            kind="rating",
            actor_role="citizen",
            actor_id=account_id,
            text=nfc(data.comment.strip()),
            rating=data.rating,
            extra={Feedback.rating: data.rating},
            guard=Feedback.rating.is_null(),
        )
    return await get_for_owner(rt, account_id, feedback_id)


async def not_resolved(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, data: NotResolvedIn) -> FeedbackOut:
    """'Not resolved' reopens an answered report within the reopen window."""
    account_id = require_citizen(actor)
    async with rt.db.transaction():
        row = await own_row(account_id, feedback_id)
        if row["status"] not in ANSWERED_STATES:
            raise _state_error(row, ANSWERED_STATES)
        until = reopen_until(rt, row)
        if until is not None and rt.clock.now() > until:
            raise Conflict(
                "reopen_window_closed",
                message_key="error.reopen_window",
                days=rt.settings.feedback_reopen_days,
                details={"reopen_until": until.isoformat()},
            )
        await transition(
            rt,
            row,
            "reopened",
            kind="reopened",
            actor_role="citizen",
            actor_id=account_id,
            text=nfc(data.text.strip()),
        )
    return await get_for_owner(rt, account_id, feedback_id)
