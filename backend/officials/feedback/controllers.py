"""HTTP endpoints for staff handling of citizen feedback: the queue, one report, the workflow's
actions, and (admin) its configuration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from backend.citizen.feedback.schemas import Status
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.officials.feedback import actions, export, flows, services
from backend.officials.feedback.schemas import (
    AnswerIn,
    AssignIn,
    AssignOut,
    Group,
    MergeIn,
    NoticeFromAnswerIn,
    NoticeRef,
    QueueFilter,
    QueuePage,
    ReasonIn,
    RouteIn,
    Sort,
    StaffFeedbackOut,
    TextIn,
)

STEP = errors(400, 401, 403, 404, 409, 422)
ID = "/{feedback_id:uuid}"


def queue_filter(
    status: FromQuery[Status | None] = None,
    group: FromQuery[Group | None] = None,
    category: FromQuery[str | None] = None,
    area: FromQuery[str | None] = None,
    overdue: FromQuery[bool | None] = None,
    assignee: FromQuery[str | None] = None,
    unit: FromQuery[uuid.UUID | None] = None,
    triage: FromQuery[bool | None] = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    q: FromQuery[str | None] = None,
    sort: FromQuery[Sort] = "newest",
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> QueueFilter:
    """The queue's query parameters, shared by the listing and the export."""
    return QueueFilter(
        state=status,
        group=group,
        category=category,
        area=area,
        overdue=overdue,
        assignee=assignee,
        unit=unit,
        triage=triage,
        since=since,
        until=until,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


class StaffFeedbackController(Controller):
    path = "/api/v1/staff/feedback"
    tags = ["feedback handling"]
    dependencies = {"flt": Provide(queue_filter, sync_to_thread=False)}

    @get(
        "/",
        operation_id="listFeedbackQueue",
        summary="The handling queue, filtered and searched",
        responses=errors(400, 401, 403, 422),
    )
    async def queue(self, rt: RuntimeDep, actor: ActorDep, flt: NamedDependency[QueueFilter]) -> QueuePage:
        return await services.queue(rt, actor, flt)

    @get(
        "/export.csv",
        operation_id="exportFeedbackQueue",
        summary="The whole filtered queue as CSV (reporter identity only where the role allows)",
        responses=errors(400, 401, 403, 422),
        media_type="text/csv; charset=utf-8",
    )
    async def export_csv(self, rt: RuntimeDep, actor: ActorDep, flt: NamedDependency[QueueFilter]) -> Stream:
        chunks = await export.export_csv(rt, actor, flt)
        return Stream(chunks, headers={"Content-Disposition": 'attachment; filename="phan-anh.csv"'})

    @get(
        ID,
        operation_id="getStaffFeedback",
        summary="One report with its full history and likely duplicates",
        responses=errors(401, 403, 404),
    )
    async def get_one(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID]
    ) -> StaffFeedbackOut:
        return await services.get(rt, actor, feedback_id)

    async def _do(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: uuid.UUID, act: flows.Act
    ) -> StaffFeedbackOut:
        await flows.perform(rt, actor, feedback_id, act)
        return await services.get(rt, actor, feedback_id)

    @post(
        "/assign",
        operation_id="assignFeedback",
        summary="Assign one or many reports to a handler (all or nothing)",
        responses=STEP,
        status_code=200,
    )
    async def assign(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[AssignIn]) -> AssignOut:
        return await actions.assign_many(rt, actor, data)

    @post(
        f"{ID}/accept",
        operation_id="acceptFeedback",
        summary="Acknowledge a report",
        responses=STEP,
        status_code=200,
    )
    async def accept(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("accept", reason=data.reason))

    @post(
        f"{ID}/start",
        operation_id="startFeedback",
        summary="Start working on a report",
        responses=STEP,
        status_code=200,
    )
    async def start(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("start", reason=data.reason))

    @post(
        f"{ID}/route",
        operation_id="routeFeedback",
        summary="Send a report to a handling unit (e.g. out of triage)",
        responses=STEP,
        status_code=200,
    )
    async def route(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[RouteIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("route", unit=data.unit, reason=data.reason))

    @post(
        f"{ID}/request-info",
        operation_id="requestFeedbackInformation",
        summary="Ask the citizen for more information",
        responses=STEP,
        status_code=200,
    )
    async def request_info(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[TextIn]
    ) -> StaffFeedbackOut:
        return await self._do(
            rt, actor, feedback_id, flows.Act("request_info", text=data.text, reason=data.reason)
        )

    @post(
        f"{ID}/answer",
        operation_id="answerFeedback",
        summary="Give the public answer (text or template)",
        responses=STEP,
        status_code=200,
    )
    async def answer(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[AnswerIn]
    ) -> StaffFeedbackOut:
        await actions.answer(rt, actor, feedback_id, data)
        return await services.get(rt, actor, feedback_id)

    @post(
        f"{ID}/notes",
        operation_id="noteFeedback",
        summary="Add an internal note (never shown to the citizen)",
        responses=STEP,
        status_code=200,
    )
    async def note(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[TextIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("note", text=data.text, reason=data.reason))

    @post(
        f"{ID}/resolve",
        operation_id="resolveFeedback",
        summary="Mark the matter resolved",
        responses=STEP,
        status_code=200,
    )
    async def resolve(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("resolve", text=data.reason))

    @post(
        f"{ID}/forward",
        operation_id="forwardFeedback",
        summary="Not in our competence: forward, with the reason shown to the citizen",
        responses=STEP,
        status_code=200,
    )
    async def forward(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("forward", reason=data.reason))

    @post(
        f"{ID}/merge",
        operation_id="mergeFeedback",
        summary="Mark as a duplicate of an original and merge into it",
        responses=STEP,
        status_code=200,
    )
    async def merge(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[MergeIn]
    ) -> StaffFeedbackOut:
        return await self._do(
            rt, actor, feedback_id, flows.Act("merge", original=data.original, reason=data.reason)
        )

    @post(
        f"{ID}/reject",
        operation_id="rejectFeedback",
        summary="Reject as abusive (moderators only)",
        responses=STEP,
        status_code=200,
    )
    async def reject(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("reject", reason=data.reason))

    @post(
        f"{ID}/reopen",
        operation_id="reopenFeedbackByStaff",
        summary="Reopen a closed report (moderators only)",
        responses=STEP,
        status_code=200,
    )
    async def reopen(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> StaffFeedbackOut:
        return await self._do(rt, actor, feedback_id, flows.Act("reopen", reason=data.reason))

    @post(
        f"{ID}/notice",
        operation_id="noticeFromFeedbackAnswer",
        summary="Draft a loudspeaker notice from the public answer",
        responses=STEP,
        status_code=201,
    )
    async def notice(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        feedback_id: FromPath[uuid.UUID],
        data: JSONBody[NoticeFromAnswerIn],
    ) -> NoticeRef:
        return await actions.notice_from_answer(rt, actor, feedback_id, data)
