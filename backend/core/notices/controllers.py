"""HTTP endpoints for notices and their lifecycle."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.core.notices import flows, listing, services
from backend.core.notices.schemas import (
    ActionIn,
    EmergencyPublishIn,
    NewVersionIn,
    NoticeFilter,
    NoticeIn,
    NoticeList,
    NoticeOut,
    NoticePatch,
    Priority,
    Status,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors

STEP_ERRORS = errors(400, 401, 403, 404, 409)


class NoticeController(Controller):
    path = "/api/v1/notices"
    tags = ["notices"]

    @get(
        "/",
        operation_id="listNotices",
        summary="Notices visible to the account, newest first",
        responses=errors(400, 401, 403, 404),
    )
    async def list_notices(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        status: FromQuery[Status | None] = None,
        category: FromQuery[str | None] = None,
        priority: FromQuery[Priority | None] = None,
        area: FromQuery[str | None] = None,
        thread_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> NoticeList:
        flt = NoticeFilter(
            status=status,
            category=category,
            priority=priority,
            area=area,
            thread_id=thread_id,
            cursor=cursor,
            limit=limit,
        )
        return await listing.list_notices(rt, actor, flt)

    @post(
        "/",
        operation_id="createNotice",
        summary="Create a draft notice",
        responses=errors(400, 401, 403, 422),
    )
    async def create(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[NoticeIn]) -> NoticeOut:
        return await services.create(rt, actor, data)

    @get("/{notice_id:uuid}", operation_id="getNotice", summary="Get a notice", responses=errors(401, 404))
    async def get_notice(self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]) -> NoticeOut:
        return await services.get(rt, actor, notice_id)

    @patch(
        "/{notice_id:uuid}",
        operation_id="editNotice",
        summary="Edit a draft",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def edit(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[NoticePatch]
    ) -> NoticeOut:
        return await services.edit(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/submit",
        operation_id="submitNotice",
        summary="Submit a draft for approval",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def submit(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]
    ) -> NoticeOut:
        return await flows.submit(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/approve",
        operation_id="approveNotice",
        summary="Approve a submitted notice",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def approve(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]
    ) -> NoticeOut:
        return await flows.approve(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/return",
        operation_id="returnNotice",
        summary="Send a notice back to its author",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def return_to_draft(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]
    ) -> NoticeOut:
        return await flows.return_to_draft(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/publish",
        operation_id="publishNotice",
        summary="Publish an approved notice",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def publish(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]
    ) -> NoticeOut:
        return await flows.publish(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/emergency-publish",
        operation_id="emergencyPublishNotice",
        summary="Approve and publish an emergency notice in one step, with its repeats and interval",
        responses=errors(400, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def emergency_publish(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[EmergencyPublishIn],
    ) -> NoticeOut:
        return await flows.emergency_publish(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/withdraw",
        operation_id="withdrawNotice",
        summary="Withdraw an approved or published notice",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def withdraw(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[ActionIn]
    ) -> NoticeOut:
        return await flows.withdraw(rt, actor, notice_id, data)

    @post(
        "/{notice_id:uuid}/versions",
        operation_id="createNoticeVersion",
        summary="Draft an update or cancellation of a published notice",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def new_version(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID], data: JSONBody[NewVersionIn]
    ) -> NoticeOut:
        return await services.new_version(rt, actor, notice_id, data)
