"""HTTP endpoints for SMS: a citizen's opt-in, staff previews and statistics, gateway receipts."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from backend.citizen.sms import services
from backend.citizen.sms.schemas import (
    SmsPreview,
    SmsReceiptIn,
    SmsReceiptOut,
    SmsStats,
    SmsSubscriptionIn,
    SmsSubscriptionOut,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class SmsSubscriptionController(Controller):
    path = "/api/v1/citizen/sms-subscription"
    tags = ["citizen"]

    @get(
        "/",
        operation_id="getSmsSubscription",
        summary="The citizen's SMS opt-in",
        responses=errors(401, 403, 404),
    )
    async def get_subscription(self, rt: RuntimeDep, actor: ActorDep) -> SmsSubscriptionOut:
        return await services.get_subscription(rt, actor)

    @put(
        "/",
        operation_id="putSmsSubscription",
        summary="Opt in to SMS (emergencies, or every notice of the followed areas) or change it",
        responses=errors(400, 401, 403, 422),
    )
    async def subscribe(
        self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[SmsSubscriptionIn]
    ) -> SmsSubscriptionOut:
        return await services.subscribe(rt, actor, data)

    @delete(
        "/",
        operation_id="deleteSmsSubscription",
        summary="Stop SMS to this citizen",
        status_code=HTTP_204_NO_CONTENT,
        responses=errors(401, 403, 404),
    )
    async def unsubscribe(self, rt: RuntimeDep, actor: ActorDep) -> None:
        await services.unsubscribe(rt, actor)


class SmsNoticeController(Controller):
    path = "/api/v1/notices"
    tags = ["notices"]

    @get(
        "/{notice_id:uuid}/sms-preview",
        operation_id="getNoticeSmsPreview",
        summary="The SMS a notice makes in both encodings (UCS-2, GSM-7) with segments and cost",
        responses=errors(400, 401, 403, 404),
    )
    async def preview(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        notice_id: FromPath[uuid.UUID],
        lang: Annotated[
            str, QueryParameter(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)
        ] = "vi",
    ) -> SmsPreview:
        return await services.preview(rt, actor, notice_id, lang)

    @get(
        "/{notice_id:uuid}/sms-stats",
        operation_id="getNoticeSmsStats",
        summary="SMS statistics of a notice: targeted, sent, failed, delivered, segments and cost",
        responses=errors(401, 403, 404),
    )
    async def stats(self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]) -> SmsStats:
        return await services.stats(rt, actor, notice_id)


class SmsReceiptController(Controller):
    path = "/api/v1/sms"
    tags = ["sms"]
    security = [{}]

    @post(
        "/receipts",
        operation_id="postSmsReceipt",
        summary="Delivery receipt from the SMS gateway (authenticated by X-Keng-Sms-Token)",
        status_code=200,
        responses=errors(400, 403, 422),
    )
    async def receipt(
        self,
        rt: RuntimeDep,
        data: JSONBody[SmsReceiptIn],
        token: Annotated[str | None, HeaderParameter(name="x-keng-sms-token", required=False)] = None,
    ) -> SmsReceiptOut:
        return await services.receipt(rt, token, data)
