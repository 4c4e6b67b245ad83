"""HTTP endpoints for a citizen's feedback: submit (JSON, or multipart with media) and follow it."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from backend.citizen.feedback import services, tracking
from backend.citizen.feedback.schemas import (
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    FeedbackUpload,
    InformationIn,
    NotResolvedIn,
    RatingIn,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.errors import BadRequest
from backend.lib.http import bearer_first, errors
from backend.runtime import Runtime

# 5 photos of the largest allowed size plus the form's text; each file is checked on its own.
MAX_UPLOAD_BODY = 40 * 1024 * 1024

SUBMIT_RESPONSES = {
    **errors(400, 401, 403, 409, 413, 415, 422, 429),
    200: ResponseSpec(
        data_container=FeedbackOut,
        description="A retry with a client_id already stored: the stored report, unchanged",
        generate_examples=False,
    ),
}
STEP_ERRORS = errors(400, 401, 403, 404, 409, 422)


def submit_limits(request: Request, rt: Runtime) -> services.SubmitLimits:
    """The process's per-device and per-address limiters, made on first use."""
    limits = getattr(request.app.state, "feedback_limits", None)
    if limits is None:
        limits = services.SubmitLimits.from_settings(rt)
        request.app.state.feedback_limits = limits
    return limits


def _answer(report: FeedbackOut, created: bool) -> Response[FeedbackOut]:
    return Response(report, status_code=201 if created else 200)


class FeedbackController(Controller):
    path = "/api/v1/citizen/feedback"
    tags = ["feedback"]
    request_max_body_size = MAX_UPLOAD_BODY
    guards = [bearer_first]

    @post(
        "/",
        operation_id="submitFeedback",
        summary="Send feedback (no media); a retry with the same client_id returns the stored report",
        responses=SUBMIT_RESPONSES,
        status_code=201,
    )
    async def submit(
        self, request: Request, rt: RuntimeDep, actor: ActorDep, data: JSONBody[FeedbackIn]
    ) -> Response[FeedbackOut]:
        report, created = await services.submit(rt, actor, data, (), submit_limits(request, rt))
        return _answer(report, created)

    @post(
        "/with-media",
        operation_id="submitFeedbackWithMedia",
        summary="Send feedback with up to 5 photos or one voice note (multipart/form-data)",
        responses=SUBMIT_RESPONSES,
        status_code=201,
    )
    async def submit_with_media(
        self,
        request: Request,
        rt: RuntimeDep,
        actor: ActorDep,
        data: Annotated[FeedbackUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[FeedbackOut]:
        try:
            body = msgspec.json.decode(data.feedback.encode(), type=FeedbackIn)
        except msgspec.ValidationError as exc:
            raise BadRequest(
                "invalid_input",
                message_key="error.validation",
                details=[{"field": "feedback", "reason": str(exc)}],
            ) from exc
        except msgspec.DecodeError as exc:
            raise BadRequest(
                "invalid_input",
                message_key="error.validation",
                details=[{"field": "feedback", "reason": "not JSON: " + str(exc)}],
            ) from exc
        uploads = [("photo", await f.read()) for f in data.photos]
        if data.voice is not None:
            uploads.append(("voice", await data.voice.read()))
        report, created = await services.submit(rt, actor, body, uploads, submit_limits(request, rt))
        return _answer(report, created)

    @get(
        "/",
        operation_id="listMyFeedback",
        summary="The citizen's own reports, newest first",
        responses=errors(400, 401, 403),
    )
    async def list_mine(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> FeedbackList:
        return await services.list_mine(rt, actor, cursor, limit)

    @get(
        "/{feedback_id:uuid}",
        operation_id="getMyFeedback",
        summary="One of the citizen's reports with its public history",
        responses=errors(401, 403, 404),
    )
    async def get_one(self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID]) -> FeedbackOut:
        return await services.get(rt, actor, feedback_id)

    @post(
        "/{feedback_id:uuid}/information",
        operation_id="addFeedbackInformation",
        summary="Answer the handler's request for more information",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def add_information(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[InformationIn]
    ) -> FeedbackOut:
        return await tracking.add_information(rt, actor, feedback_id, data)

    @post(
        "/{feedback_id:uuid}/rating",
        operation_id="rateFeedbackAnswer",
        summary="Rate the answer (1–5), once",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def rate(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[RatingIn]
    ) -> FeedbackOut:
        return await tracking.rate(rt, actor, feedback_id, data)

    @post(
        "/{feedback_id:uuid}/not-resolved",
        operation_id="reopenFeedback",
        summary="Say the matter is not resolved: reopens the report within the reopen window",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def not_resolved(
        self, rt: RuntimeDep, actor: ActorDep, feedback_id: FromPath[uuid.UUID], data: JSONBody[NotResolvedIn]
    ) -> FeedbackOut:
        return await tracking.not_resolved(rt, actor, feedback_id, data)
