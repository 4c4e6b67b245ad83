"""HTTP endpoints: a citizen's push registrations, the VAPID public key, a notice's delivery statistics."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.citizen.push import services
from backend.citizen.push.schemas import (
    DeliveryStats,
    PushRegistrationIn,
    PushRegistrationList,
    PushRegistrationOut,
    VapidPublicKey,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class PushRegistrationController(Controller):
    path = "/api/v1/citizen/push-registrations"
    tags = ["citizen"]

    @post(
        "/",
        operation_id="registerPush",
        summary="Register this device for push (Web Push subscription or FCM token)",
        description="201 for a new registration; 200 with the existing one when it is sent again.",
        status_code=HTTP_201_CREATED,
        responses=errors(400, 401, 403, 409, 422),
    )
    async def register(
        self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[PushRegistrationIn]
    ) -> Response[PushRegistrationOut]:
        out, created = await services.register(rt, actor, data)
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get(
        "/",
        operation_id="listPushRegistrations",
        summary="The citizen's devices registered for push",
        responses=errors(401, 403),
    )
    async def list_registrations(self, rt: RuntimeDep, actor: ActorDep) -> PushRegistrationList:
        return await services.list_mine(rt, actor)

    @delete(
        "/{registration_id:uuid}",
        operation_id="deletePushRegistration",
        summary="Stop push to one device",
        status_code=HTTP_204_NO_CONTENT,
        responses=errors(401, 403, 404),
    )
    async def unregister(self, rt: RuntimeDep, actor: ActorDep, registration_id: FromPath[uuid.UUID]) -> None:
        await services.unregister(rt, actor, registration_id)


class VapidKeyController(Controller):
    path = "/api/v1/push"
    tags = ["citizen"]

    @get(
        "/vapid-public-key",
        operation_id="getVapidPublicKey",
        summary="The server's VAPID public key (the browser's applicationServerKey)",
    )
    async def vapid_public_key(self, rt: RuntimeDep) -> VapidPublicKey:
        return services.vapid_public_key(rt)


class DeliveryStatsController(Controller):
    path = "/api/v1/notices"
    tags = ["notices"]

    @get(
        "/{notice_id:uuid}/delivery-stats",
        operation_id="getNoticeDeliveryStats",
        summary="Push delivery statistics of a notice per channel: targeted, sent, failed, pruned, opened",
        responses=errors(401, 403, 404),
    )
    async def delivery_stats(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]
    ) -> DeliveryStats:
        return await services.delivery_stats(rt, actor, notice_id)
