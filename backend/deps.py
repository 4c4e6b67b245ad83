"""Dependencies injected into controllers: the runtime, the acting principal, client info."""

from __future__ import annotations

from litestar import Request
from litestar.di import Provide
from litestar.params import SkipValidation

from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor
from backend.core.accounts.services import ClientInfo
from backend.lib.errors import Unauthorized
from backend.lib.http import client_addr, request_id_var
from backend.runtime import Runtime


def provide_rt(request: Request) -> Runtime:
    return request.app.state.rt


def provide_client(request: Request) -> ClientInfo:
    return ClientInfo(addr=client_addr(request), request_id=request_id_var.get())


async def provide_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="keng"'})
    rt: Runtime = request.app.state.rt
    return await accounts.actor_from_token(rt, token.strip(), provide_client(request))


DEPENDENCIES = {
    "rt": Provide(provide_rt, sync_to_thread=False),
    "client": Provide(provide_client, sync_to_thread=False),
    "actor": Provide(provide_actor),
}

# Injected objects are the process's own, not client input: Litestar must pass them through as they
# are instead of re-validating (and copying) them on every request.
RuntimeDep = SkipValidation[Runtime]
ActorDep = SkipValidation[Actor]
ClientDep = SkipValidation[ClientInfo]
