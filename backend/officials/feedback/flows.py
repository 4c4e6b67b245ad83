"""The handling workflow: which action moves a report from which state to which, who may take it,
and what the citizen sees of it. Every step is guarded (state and role), written to the report's
history and to the audit log with its reason, in one transaction.

States (names shared with the citizen side): open — received, accepted, assigned, in_progress,
waiting_for_citizen, reopened; resolved — answered, resolved; closed — forwarded (not in our
competence), duplicate, rejected (abusive)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from backend.citizen.feedback.schemas import CLOSED_STATES, OPEN_STATES, STATES
from backend.citizen.feedback.services import FeedbackStateError, clean_text
from backend.citizen.feedback.tables import Feedback, FeedbackEvent
from backend.citizen.feedback.tracking import transition
from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit import services as audit
from backend.lib.errors import DomainError, NotFound, ValidationFailed
from backend.officials.feedback import routing, timing
from backend.officials.feedback.tables import FeedbackFollower, FeedbackHandling, HandlingUnit
from backend.runtime import Runtime

RESOLVED_STATES = ("answered", "resolved")
GROUPS: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATES,
    "resolved": RESOLVED_STATES,
    "closed": tuple(s for s in CLOSED_STATES if s not in RESOLVED_STATES),
}
HANDLE = Permission.FEEDBACK_HANDLE
MODERATE = Permission.FEEDBACK_MODERATE
_ASKABLE = tuple(s for s in OPEN_STATES if s != "waiting_for_citizen")


def _to(states: tuple[str, ...], target: str | None) -> dict[str, str | None]:
    return {s: target for s in states}


@dataclass(frozen=True)
class Step:
    """``moves`` maps each state the action is allowed from to the state it leads to (None: the
    state stays). ``kind`` names the history entry; ``text_public`` says whether the citizen reads
    the text (an answer, a question, a reason for rejecting), else only the audit log keeps it."""

    moves: dict[str, str | None]
    kind: str
    permission: Permission = HANDLE
    public: bool = True
    text_public: bool = False
    reason_required: bool = False
    text_required: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


STEPS: dict[str, Step] = {
    "accept": Step(_to(("received", "reopened"), "accepted"), "accepted"),
    "assign": Step(
        {
            **_to(("received", "accepted", "reopened", "assigned"), "assigned"),
            "in_progress": None,
            "waiting_for_citizen": None,
        },
        "assigned",
    ),
    "route": Step(_to(OPEN_STATES, None), "routed", public=False),
    "start": Step(_to(("accepted", "assigned", "reopened"), "in_progress"), "started"),
    "request_info": Step(
        _to(_ASKABLE, "waiting_for_citizen"), "info_request", text_public=True, text_required=True
    ),
    "answer": Step(_to(OPEN_STATES, "answered"), "answer", text_public=True, text_required=True),
    "resolve": Step(_to((*OPEN_STATES, "answered"), "resolved"), "resolved", text_public=True),
    "forward": Step(_to(OPEN_STATES, "forwarded"), "forwarded", text_public=True, reason_required=True),
    "merge": Step(_to(OPEN_STATES, "duplicate"), "merged", text_public=True),
    "reject": Step(
        _to(OPEN_STATES, "rejected"), "rejected", permission=MODERATE, text_public=True, reason_required=True
    ),
    "reopen": Step(
        _to(("answered", "resolved", "forwarded", "rejected"), "reopened"),
        "reopened",
        permission=MODERATE,
        text_public=True,
        reason_required=True,
    ),
    "note": Step(_to(STATES, None), "note", public=False, text_public=True, text_required=True),
}


def group_of(status: str) -> str:
    for name, states in GROUPS.items():
        if status in states:
            return name
    return "closed"


@dataclass
class Act:
    """One staff action on one report, with whatever that action needs."""

    action: str
    text: str = ""
    reason: str = ""
    assignee: uuid.UUID | None = None
    unit: uuid.UUID | None = None
    original: uuid.UUID | None = None


async def load(
    rt: Runtime, actor: Actor, feedback_id: uuid.UUID, permission: Permission = HANDLE
) -> tuple[dict[str, Any], Grant | None, str]:
    row = await Feedback.select().where(Feedback.id == feedback_id).first()
    if row is None:
        raise NotFound("feedback")
    path = routing.effective_path(rt, row)
    return row, actor.require(permission, [path]), path


async def perform(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, act: Act) -> None:
    async with rt.db.transaction():
        await perform_in_transaction(rt, actor, feedback_id, act)


async def perform_in_transaction(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, act: Act) -> None:
    step = STEPS[act.action]
    row, grant, path = await load(rt, actor, feedback_id, step.permission)
    status = row["status"]
    if status not in step.moves:
        raise FeedbackStateError(state=status, details={"status": status, "allowed": list(step.moves)})
    reason = act.reason.strip()
    if step.reason_required and not reason:
        raise ValidationFailed([{"field": "reason", "reason": "a reason is required for this action"}])
    text = clean_text(act.text) if step.text_required else act.text.strip()
    to_status = step.moves[status]
    now = rt.clock.now()
    handling: dict[Any, Any] = {}
    audit_details: dict[str, Any] = {"from": status, "to": to_status or status, "reason": reason}
    event_text = text or reason if step.text_public else ""
    extra: dict[Any, Any] = {}

    if act.action in ("answer", "resolve"):
        extra[Feedback.answered_at] = now
    if act.action in ("accept", "assign", "start"):
        current = (
            await FeedbackHandling.select(FeedbackHandling.acknowledged_at)
            .where(FeedbackHandling.feedback == feedback_id)
            .first()
        )
        if current is not None and current["acknowledged_at"] is None:
            handling[FeedbackHandling.acknowledged_at] = now
    if act.action == "assign":
        await _check_assignee(rt, act.assignee, path)
        handling[FeedbackHandling.assignee] = act.assignee
        audit_details["assignee"] = str(act.assignee)
    if act.action == "route":
        if act.unit is None or not await routing.unit_exists(act.unit):
            raise ValidationFailed([{"field": "unit", "reason": "unknown handling unit"}])
        handling[FeedbackHandling.unit] = act.unit
        handling[FeedbackHandling.triage] = False
        handling[FeedbackHandling.escalated_to] = None
        audit_details["unit"] = str(act.unit)
    if act.action == "merge":
        original = await _merge_target(rt, actor, row, act.original)
        event_text = (
            f"Phản ánh này trùng với phản ánh {original['token']} đã được tiếp nhận; "
            "kết quả xử lý sẽ được thông báo theo phản ánh đó."
        )
        audit_details["original"] = str(original["id"])

    await transition(
        rt,
        row,
        to_status,
        kind=step.kind,
        actor_role=grant.role.value if grant else actor.kind,
        actor_id=actor.account_id,
        text=event_text,
        public=step.public,
        extra=extra,
    )
    if act.action == "merge":
        await _link(rt, actor, row, original, grant)
        handling[FeedbackHandling.duplicate_of] = original["id"]
    if handling:
        await FeedbackHandling.update(handling).where(FeedbackHandling.feedback == feedback_id)
    await _move_clock(rt, row, to_status)
    await audit.record(
        rt,
        actor,
        f"feedback.{act.action}",
        target_type="feedback",
        target_id=str(feedback_id),
        grant=grant,
        details=audit_details,
    )


async def _move_clock(rt: Runtime, row: dict[str, Any], to_status: str | None) -> None:
    """Waiting for the citizen stops the deadline clock; leaving that state (whatever the action)
    starts it again; reopening starts a fresh deadline."""
    if to_status is None or to_status == row["status"]:
        return
    if to_status in timing.PAUSED_STATES:
        await timing.pause(rt, row["id"])
    elif to_status == "reopened":
        await timing.restart(rt, row["id"], row["category"])
    elif row["status"] in timing.PAUSED_STATES:
        await timing.resume(rt, row["id"])


async def _check_assignee(rt: Runtime, assignee: uuid.UUID | None, path: str) -> None:
    if assignee is None:
        raise ValidationFailed([{"field": "assignee", "reason": "required"}])
    try:
        who = await actor_for_account(rt, assignee, ClientInfo(addr="", request_id=""))
    except DomainError:
        who = None
    if who is None or who.grant_for(HANDLE, path) is None:
        raise ValidationFailed(
            [{"field": "assignee", "reason": "not an active account that may handle feedback in this area"}]
        )


async def _merge_target(
    rt: Runtime, actor: Actor, row: dict[str, Any], original_id: uuid.UUID | None
) -> dict[str, Any]:
    if original_id is None:
        raise ValidationFailed([{"field": "original", "reason": "required"}])
    if original_id == row["id"]:
        raise ValidationFailed([{"field": "original", "reason": "a report cannot duplicate itself"}])
    original = await Feedback.select().where(Feedback.id == original_id).first()
    if original is None:
        raise ValidationFailed([{"field": "original", "reason": "unknown feedback"}])
    if original["status"] in ("duplicate", "rejected"):
        raise ValidationFailed(
            [
                {
                    "field": "original",
                    "reason": f"the original is {original['status']}; merge into its original",
                }
            ]
        )
    actor.require(HANDLE, [routing.effective_path(rt, original)])
    return original


async def _link(
    rt: Runtime, actor: Actor, duplicate: dict[str, Any], original: dict[str, Any], grant: Grant | None
) -> None:
    """Both ways: the duplicate points at the original (and so does anything merged into it), the
    original's history names the duplicate, and the duplicate's followers follow the original."""
    await FeedbackHandling.update({FeedbackHandling.duplicate_of: original["id"]}).where(
        FeedbackHandling.duplicate_of == duplicate["id"]
    )
    followers = {
        r["account"]
        for r in await FeedbackFollower.select(FeedbackFollower.account).where(
            FeedbackFollower.feedback == duplicate["id"]
        )
    }
    if duplicate["account"] is not None:
        followers.add(duplicate["account"])
    already = {
        r["account"]
        for r in await FeedbackFollower.select(FeedbackFollower.account).where(
            FeedbackFollower.feedback == original["id"]
        )
    }
    already.add(original["account"])
    now = rt.clock.now()
    new = [a for a in followers if a not in already]
    if new:
        await FeedbackFollower.insert(
            *[
                FeedbackFollower(
                    id=uuid.uuid4(), feedback=original["id"], account=a, via=duplicate["id"], created_at=now
                )
                for a in new
            ]
        )
    await FeedbackFollower.delete().where(FeedbackFollower.feedback == duplicate["id"])
    await FeedbackEvent.insert(
        FeedbackEvent(
            feedback=original["id"],
            at=now,
            kind="merged_in",
            text=f"Gộp phản ánh trùng {duplicate['token']}",
            public=False,
            actor_id=actor.account_id,
            actor_role=grant.role.value if grant else actor.kind,
        )
    )


async def unit_name(unit_id: uuid.UUID | None) -> str | None:
    if unit_id is None:
        return None
    row = await HandlingUnit.select(HandlingUnit.name).where(HandlingUnit.id == unit_id).first()
    return row["name"] if row else None
