"""The deadline clock of a report.

It stands still while the report waits for the citizen — the days a citizen takes to add the
information asked for are not the handler's — and the deadlines move on by the working days the
wait lasted when the report comes back. A reopened report (by a moderator, or by the citizen saying
the answer did not resolve it) starts a fresh answer deadline from the moment it reopened."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from backend.citizen.feedback.schemas import OPEN_STATES
from backend.officials.feedback import deadlines
from backend.officials.feedback.tables import FeedbackHandling as H
from backend.runtime import Runtime

PAUSED_STATES = ("waiting_for_citizen",)
# Open states whose deadlines run: the queue, the sweep and the figures count only these as overdue.
RUNNING_STATES = tuple(s for s in OPEN_STATES if s not in PAUSED_STATES)


def shifted(moment: datetime, days: int, days_off: Collection[date]) -> datetime:
    """A deadline moved on by ``days`` working days, still at the close of a working day."""
    return deadlines.close_of(deadlines.add_working_days(deadlines.local_date(moment), days, days_off))


async def pause(rt: Runtime, feedback_id: uuid.UUID) -> None:
    """Stop the clock (a no-op when it already stands). Call inside the action's transaction."""
    await H.update({H.paused_at: rt.clock.now()}).where((H.feedback == feedback_id) & H.paused_at.is_null())


async def resume(rt: Runtime, feedback_id: uuid.UUID) -> None:
    """Start the clock again, moving the deadlines on by the working days it stood still (the day the
    wait began is not counted, the day it ended is). Call inside the action's transaction."""
    h = await H.select().where(H.feedback == feedback_id).first()
    if h is None or h["paused_at"] is None:
        return
    now = rt.clock.now()
    days_off = await deadlines.holidays()
    days = deadlines.working_days_between(
        deadlines.local_date(h["paused_at"]), deadlines.local_date(now), days_off
    )
    changes: dict[Any, Any] = {H.paused_at: None}
    if days:
        answer_due = shifted(h["answer_due"], days, days_off)
        changes[H.answer_due] = answer_due
        changes[H.remind_at] = shifted(h["remind_at"], days, days_off)
        if h["acknowledged_at"] is None:
            changes[H.ack_due] = shifted(h["ack_due"], days, days_off)
        if answer_due > now:
            changes[H.overdue] = False
    await H.update(changes).where(H.feedback == feedback_id)


async def restart(rt: Runtime, feedback_id: uuid.UUID, category: str) -> None:
    """New answer deadline from now, flags cleared. Call inside the reopening transaction."""
    due = await deadlines.deadlines_for(category, rt.clock.now())
    await H.update(
        {
            H.answer_due: due.answer_due,
            H.remind_at: due.remind_at,
            H.overdue: False,
            H.reminded_at: None,
            H.escalated_at: None,
            H.paused_at: None,
        }
    ).where(H.feedback == feedback_id)
