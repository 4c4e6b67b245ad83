"""HTTP endpoints for logins, tokens and staff accounts."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from backend.core.accounts import admin, services
from backend.core.accounts.schemas import (
    AccountList,
    AccountOut,
    ActiveIn,
    GrantIn,
    LoginIn,
    RefreshIn,
    StaffAccountIn,
    TokenPair,
)
from backend.deps import ActorDep, ClientDep, RuntimeDep
from backend.lib.http import errors


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        operation_id="login",
        summary="Log in with username and password",
        responses=errors(400, 401, 429),
        status_code=200,
    )
    async def login(
        self, request: Request, rt: RuntimeDep, client: ClientDep, data: JSONBody[LoginIn]
    ) -> TokenPair:
        request.app.state.login_limiter.hit(f"login:{client.addr}", rt.clock.now())
        return await services.login(rt, data.username, data.password, client)

    @post(
        "/refresh",
        operation_id="refreshToken",
        summary="Rotate a refresh token for a new token pair",
        responses=errors(400, 401),
        status_code=200,
    )
    async def refresh(self, rt: RuntimeDep, client: ClientDep, data: JSONBody[RefreshIn]) -> TokenPair:
        return await services.refresh(rt, data.refresh_token, client)

    @post(
        "/logout",
        operation_id="logout",
        summary="Revoke a refresh token and its family",
        responses=errors(400),
        status_code=HTTP_204_NO_CONTENT,
    )
    async def logout(self, rt: RuntimeDep, data: JSONBody[RefreshIn]) -> None:
        await services.logout(rt, data.refresh_token)

    @get("/me", operation_id="getMe", summary="The logged-in account with its grants", responses=errors(401))
    async def me(self, rt: RuntimeDep, actor: ActorDep) -> AccountOut:
        assert actor.account_id is not None
        return await admin.get_account(rt, actor, actor.account_id)


class AccountController(Controller):
    path = "/api/v1/accounts"
    tags = ["accounts"]

    @get("/", operation_id="listStaffAccounts", summary="List staff accounts", responses=errors(401, 403))
    async def list_accounts(self, rt: RuntimeDep, actor: ActorDep) -> AccountList:
        return await admin.list_staff(rt, actor)

    @post(
        "/",
        operation_id="createStaffAccount",
        summary="Create a staff account with grants",
        responses=errors(400, 401, 403, 409, 422),
    )
    async def create(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[StaffAccountIn]) -> AccountOut:
        return await admin.create_staff(rt, actor, data)

    @get(
        "/{account_id:uuid}",
        operation_id="getAccount",
        summary="Get an account",
        responses=errors(401, 403, 404),
    )
    async def get_account(
        self, rt: RuntimeDep, actor: ActorDep, account_id: FromPath[uuid.UUID]
    ) -> AccountOut:
        return await admin.get_account(rt, actor, account_id)

    @post(
        "/{account_id:uuid}/grants",
        operation_id="addGrant",
        summary="Grant a role on an area subtree",
        responses=errors(400, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def add_grant(
        self, rt: RuntimeDep, actor: ActorDep, account_id: FromPath[uuid.UUID], data: JSONBody[GrantIn]
    ) -> AccountOut:
        return await admin.add_grant(rt, actor, account_id, data)

    @post(
        "/{account_id:uuid}/grants/{grant_id:uuid}/revoke",
        operation_id="revokeGrant",
        summary="Revoke a role grant",
        responses=errors(401, 403, 404),
        status_code=200,
    )
    async def revoke_grant(
        self, rt: RuntimeDep, actor: ActorDep, account_id: FromPath[uuid.UUID], grant_id: FromPath[uuid.UUID]
    ) -> AccountOut:
        return await admin.revoke_grant(rt, actor, account_id, grant_id)

    @put(
        "/{account_id:uuid}/active",
        operation_id="setAccountActive",
        summary="Activate or deactivate an account",
        responses=errors(400, 401, 403, 404),
    )
    async def set_active(
        self, rt: RuntimeDep, actor: ActorDep, account_id: FromPath[uuid.UUID], data: JSONBody[ActiveIn]
    ) -> AccountOut:
        return await admin.set_active(rt, actor, account_id, data.active)
