"""Staff actions that need more than one step of the workflow: a public answer from a template,
assigning many reports at once, and turning a public answer into a draft notice for the commune
loudspeakers (Decree 49/2024 asks grassroots radio to broadcast answers to citizens' feedback)."""

from __future__ import annotations

import uuid

from backend.broadcast import mark_answer_for_radio
from backend.citizen.feedback.tables import FeedbackEvent
from backend.core.accounts.permissions import Actor, Permission
from backend.core.areas.tables import Area
from backend.core.notices import services as notices
from backend.core.notices.schemas import NoticeIn, NoticeText
from backend.lib.errors import Conflict, DomainError, ValidationFailed
from backend.officials.feedback import flows
from backend.officials.feedback.schemas import AnswerIn, AssignIn, AssignOut, NoticeFromAnswerIn, NoticeRef
from backend.officials.feedback.tables import AnswerTemplate
from backend.runtime import Runtime


async def answer(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, data: AnswerIn) -> None:
    text = data.text.strip()
    if not text and data.template is not None:
        template = (
            await AnswerTemplate.select(AnswerTemplate.text, AnswerTemplate.active)
            .where(AnswerTemplate.id == data.template)
            .first()
        )
        if template is None or not template["active"]:
            raise ValidationFailed([{"field": "template", "reason": "unknown or inactive template"}])
        text = template["text"]
    if not text:
        raise ValidationFailed([{"field": "text", "reason": "give the answer's text or a template"}])
    await flows.perform(rt, actor, feedback_id, flows.Act("answer", text=text, reason=data.reason))


async def assign_many(rt: Runtime, actor: Actor, data: AssignIn) -> AssignOut:
    """All or nothing: one report that cannot be assigned refuses the whole batch, naming it."""
    ids = list(dict.fromkeys(data.ids))
    async with rt.db.transaction():
        for feedback_id in ids:
            try:
                await flows.perform_in_transaction(
                    rt, actor, feedback_id, flows.Act("assign", assignee=data.assignee, reason=data.reason)
                )
            except DomainError as exc:
                details = exc.details if isinstance(exc.details, dict) else {"errors": exc.details}
                exc.details = {**details, "feedback_id": str(feedback_id)}
                raise
    return AssignOut(assigned=ids)


async def _commune_of(path: str) -> str | None:
    codes = [c for c in path.strip("/").split("/") if c]
    rows = await Area.select(Area.code).where(Area.code.is_in(codes) & (Area.level == "commune"))
    return rows[0]["code"] if rows else None


async def notice_from_answer(
    rt: Runtime, actor: Actor, feedback_id: uuid.UUID, data: NoticeFromAnswerIn
) -> NoticeRef:
    row, _, path = await flows.load(rt, actor, feedback_id)
    last = (
        await FeedbackEvent.select(FeedbackEvent.text)
        .where((FeedbackEvent.feedback == feedback_id) & (FeedbackEvent.kind == "answer"))
        .order_by(FeedbackEvent.id, ascending=False)
        .first()
    )
    if last is None:
        raise Conflict("no_public_answer", details={"feedback_id": str(feedback_id)})
    area = data.area_code or await _commune_of(path)
    if area is None:
        raise ValidationFailed([{"field": "area_code", "reason": "the report names no commune; give one"}])
    actor.require(Permission.NOTICE_CREATE)
    body = f"Trả lời phản ánh {row['token']}: {last['text']}"
    notice = await notices.create(
        rt,
        actor,
        NoticeIn(
            category=row["category"],
            priority="normal",
            target_areas=[area],
            owner_area=area,
            texts={"vi": NoticeText(title=data.title, body=body[:20000])},
        ),
    )
    # Decree 49/2024: the commune radio broadcasts answers to citizens' feedback. The notice still
    # needs approval; once published it plays in the answers part of the station's programmes.
    radio = await mark_answer_for_radio(rt, actor, notice.id, area)
    return NoticeRef(notice_id=notice.id, radio=radio)
