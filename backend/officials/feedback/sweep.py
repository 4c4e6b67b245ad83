"""The periodic sweep over open reports: give any report without a handling record one, remind
before the answer deadline, flag what is overdue, and escalate an overdue report to its unit's
supervisor unit. Each alert is written once per (report, kind) — a repeated or concurrent sweep
raises nothing twice — and audited as the system."""

from __future__ import annotations

import uuid
from typing import Any

from backend.core.accounts.permissions import Actor
from backend.core.audit import services as audit
from backend.officials.feedback import intake, timing
from backend.officials.feedback.schemas import SweepOut
from backend.officials.feedback.tables import FeedbackAlert, HandlingUnit
from backend.officials.feedback.tables import FeedbackHandling as H
from backend.runtime import Runtime

BATCH = 500


async def _alert(rt: Runtime, h: dict[str, Any], kind: str, unit: uuid.UUID | None, due: Any) -> bool:
    if await FeedbackAlert.exists().where((FeedbackAlert.feedback == h["id"]) & (FeedbackAlert.kind == kind)):
        return False
    await FeedbackAlert.insert(
        FeedbackAlert(
            id=uuid.uuid4(),
            feedback=h["id"],
            kind=kind,
            unit=unit,
            account=h["assignee"],
            due=due,
            at=rt.clock.now(),
        )
    )
    await audit.record(
        rt,
        Actor.system("feedback-sweep"),
        f"feedback.{kind}",
        target_type="feedback",
        target_id=str(h["id"]),
        details={"unit": str(unit or ""), "assignee": str(h["assignee"] or ""), "due": due.isoformat()},
    )
    return True


async def sweep(rt: Runtime) -> SweepOut:
    created = await intake.ensure_all(rt)
    now = rt.clock.now()
    reminders = overdue = escalations = 0
    open_ = H.feedback.status.is_in(list(timing.RUNNING_STATES))
    columns = (*H.all_columns(), H.feedback.status)

    due_soon = (
        await H.select(*columns)
        .where(open_ & H.reminded_at.is_null() & (H.remind_at <= now) & (H.answer_due > now))
        .limit(BATCH)
    )
    for h in due_soon:
        async with rt.db.transaction():
            if await _alert(rt, h, "reminder", h["unit"], h["answer_due"]):
                reminders += 1
            await H.update({H.reminded_at: now}).where(H.id == h["id"])

    late = (
        await H.select(*columns)
        .where(
            open_
            & (H.escalated_at.is_null() | (H.overdue == False))  # noqa: E712
            & ((H.answer_due < now) | ((H.feedback.status == "received") & (H.ack_due < now)))
        )
        .limit(BATCH)
    )
    for h in late:
        due = h["answer_due"] if h["answer_due"] < now else h["ack_due"]
        async with rt.db.transaction():
            changes: dict[Any, Any] = {H.overdue: True}
            if await _alert(rt, h, "overdue", h["unit"], due):
                overdue += 1
            if h["escalated_at"] is None:
                supervisor = await _supervisor(h["unit"])
                if await _alert(rt, h, "escalation", supervisor, due):
                    escalations += 1
                changes.update({H.escalated_at: now, H.escalated_to: supervisor})
            await H.update(changes).where(H.id == h["id"])
    return SweepOut(created=created, reminders=reminders, overdue=overdue, escalations=escalations)


async def _supervisor(unit_id: uuid.UUID | None) -> uuid.UUID | None:
    """The unit above; a report in triage (no unit) or a unit without one escalates to nobody in
    particular — the alert stays, unaddressed, for the province's triage desk."""
    if unit_id is None:
        return None
    row = await HandlingUnit.select(HandlingUnit.supervisor).where(HandlingUnit.id == unit_id).first()
    return row["supervisor"] if row else None
