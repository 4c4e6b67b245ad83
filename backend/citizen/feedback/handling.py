"""Staff actions on a report that the citizen sees: a public answer, a request for information,
resolving it. The handling workflow (routing, queues, deadlines, HTTP endpoints) is a later issue;
these functions are its first rules. Each needs ``feedback.handle`` over the report's area (or over
the province when the report has only coordinates) and is written to the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from backend.citizen.feedback.schemas import OPEN_STATES
from backend.citizen.feedback.services import FeedbackStateError, clean_text
from backend.citizen.feedback.tables import Feedback
from backend.citizen.feedback.tracking import transition
from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.areas.services import ROOT_PATH
from backend.core.audit import services as audit
from backend.lib.errors import NotFound
from backend.runtime import Runtime


async def _load(rt: Runtime, actor: Actor, feedback_id: uuid.UUID) -> tuple[dict[str, Any], Grant | None]:
    row = await Feedback.select().where(Feedback.id == feedback_id).first()
    if row is None:
        raise NotFound("feedback")
    path = row["area_path"] or f"{ROOT_PATH}{rt.settings.province_code}/"
    return row, actor.require(Permission.FEEDBACK_HANDLE, [path])


async def _act(
    rt: Runtime,
    actor: Actor,
    feedback_id: uuid.UUID,
    *,
    allowed: tuple[str, ...],
    to_status: str,
    kind: str,
    text: str,
    answered: bool = False,
) -> None:
    async with rt.db.transaction():
        row, grant = await _load(rt, actor, feedback_id)
        if row["status"] not in allowed:
            raise FeedbackStateError(
                state=row["status"], details={"status": row["status"], "allowed": list(allowed)}
            )
        extra = {Feedback.answered_at: rt.clock.now()} if answered else None
        await transition(
            rt,
            row,
            to_status,
            kind=kind,
            actor_role=grant.role.value if grant else actor.kind,
            actor_id=actor.account_id,
            text=text,
            extra=extra,
        )
        await audit.record(
            rt,
            actor,
            f"feedback.{kind}",
            target_type="feedback",
            target_id=str(feedback_id),
            grant=grant,
            details={"from": row["status"], "to": to_status},
        )


async def answer(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, text: str) -> None:
    """A public answer; the report becomes ``answered`` and the reopen window starts."""
    await _act(
        rt,
        actor,
        feedback_id,
        allowed=OPEN_STATES,
        to_status="answered",
        kind="answer",
        text=clean_text(text),
        answered=True,
    )


async def request_information(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, question: str) -> None:
    """Ask the citizen for more; only then may they add information."""
    allowed = tuple(s for s in OPEN_STATES if s != "waiting_for_citizen")
    await _act(
        rt,
        actor,
        feedback_id,
        allowed=allowed,
        to_status="waiting_for_citizen",
        kind="info_request",
        text=clean_text(question),
    )


async def resolve(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, note: str = "") -> None:
    """Mark the matter resolved (from an open state or after an answer)."""
    allowed = (*OPEN_STATES, "answered")
    await _act(
        rt,
        actor,
        feedback_id,
        allowed=allowed,
        to_status="resolved",
        kind="resolved",
        text=note.strip(),
        answered=True,
    )
