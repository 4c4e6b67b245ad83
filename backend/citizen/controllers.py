"""HTTP endpoints for citizens' phones."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.params import JSONBody

from backend.core.accounts import services as accounts
from backend.core.accounts.schemas import CitizenRegisterIn, TokenPair
from backend.deps import ClientDep, RuntimeDep
from backend.lib.http import errors


class CitizenController(Controller):
    path = "/api/v1/citizens"
    tags = ["citizens"]

    @post(
        "/register",
        operation_id="registerCitizen",
        summary="Register a citizen's phone anonymously (phone number optional)",
        responses=errors(400, 409, 429),
    )
    async def register(
        self, request: Request, rt: RuntimeDep, client: ClientDep, data: JSONBody[CitizenRegisterIn]
    ) -> TokenPair:
        request.app.state.login_limiter.hit(f"register:{client.addr}", rt.clock.now())
        return await accounts.register_citizen(rt, data, client)
