"""HTTP endpoints for a citizen's subscriptions."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from backend.citizen.subscriptions import services
from backend.citizen.subscriptions.schemas import SubscriptionsIn, SubscriptionsOut
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class SubscriptionController(Controller):
    path = "/api/v1/citizen/subscriptions"
    tags = ["citizen"]

    @get(
        "/",
        operation_id="getSubscriptions",
        summary="Areas and categories the citizen follows",
        responses=errors(401, 403),
    )
    async def get_subscriptions(self, rt: RuntimeDep, actor: ActorDep) -> SubscriptionsOut:
        return await services.get(rt, actor)

    @put(
        "/",
        operation_id="replaceSubscriptions",
        summary="Replace the followed areas and categories",
        responses=errors(400, 401, 403, 422),
    )
    async def replace(
        self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[SubscriptionsIn]
    ) -> SubscriptionsOut:
        return await services.replace(rt, actor, data)
