"""Logins, token rotation, citizen registration and staff administration.

Refresh tokens rotate on every use and belong to a family; presenting a token that was already
rotated means it was copied, so the whole family is revoked and the holder must log in again."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Role
from backend.core.accounts.schemas import (
    CitizenRegisterIn,
    TokenPair,
)
from backend.core.accounts.tables import Account, RefreshToken
from backend.core.audit import services as audit
from backend.lib.crypto import DUMMY_PASSWORD_HASH, token_digest, verify_password
from backend.lib.errors import Conflict, Unauthorized
from backend.lib.tokens import decode_access_token, issue_access_token
from backend.runtime import Runtime


@dataclass(frozen=True)
class ClientInfo:
    addr: str
    request_id: str


async def _issue(
    rt: Runtime, account: dict[str, Any], client: ClientInfo, family: uuid.UUID | None = None
) -> TokenPair:
    now = rt.clock.now()
    refresh = secrets.token_urlsafe(32)
    await RefreshToken.insert(
        RefreshToken(
            id=uuid.uuid4(),
            account=account["id"],
            family=family or uuid.uuid4(),
            token_digest=token_digest(refresh),
            issued_at=now,
            expires_at=now + timedelta(days=rt.settings.refresh_token_days),
            client_addr=client.addr,
        )
    )
    minutes = rt.settings.access_token_minutes
    access = issue_access_token(
        rt.jwt_keys, subject=str(account["id"]), kind=account["kind"], now=now, minutes=minutes
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        token_type="Bearer",
        expires_in=minutes * 60,
        account_id=account["id"],
    )


async def login(rt: Runtime, username: str, password: str, client: ClientInfo) -> TokenPair:
    account = await Account.select().where(Account.username == username.strip().lower()).first()
    stored = account["password_hash"] if account and account["password_hash"] else DUMMY_PASSWORD_HASH
    ok = verify_password(password, stored)
    if not account or not ok or not account["active"]:
        raise Unauthorized("invalid_credentials", message_key="error.invalid_credentials")
    async with rt.db.transaction():
        pair = await _issue(rt, account, client)
        actor = Actor(
            account_id=account["id"],
            kind=account["kind"],
            client_addr=client.addr,
            request_id=client.request_id,
            username=account["username"],
        )
        await audit.record(rt, actor, "auth.login", target_type="account", target_id=str(account["id"]))
    return pair


async def refresh(rt: Runtime, token: str, client: ClientInfo) -> TokenPair:
    now = rt.clock.now()
    async with rt.db.transaction():
        row = await RefreshToken.select().where(RefreshToken.token_digest == token_digest(token)).first()
        if row is None:
            raise Unauthorized("token_invalid", message_key="error.token_invalid")
        if row["used_at"] is not None or row["revoked_at"] is not None:
            await revoke_family(rt, row["family"])
            actor = Actor(
                account_id=row["account"],
                kind="unknown",
                client_addr=client.addr,
                request_id=client.request_id,
            )
            await audit.record(
                rt,
                actor,
                "auth.refresh_reuse",
                target_type="account",
                target_id=str(row["account"]),
                details={"family": str(row["family"])},
            )
            reuse = Unauthorized("refresh_reused", message_key="error.refresh_reused")
        elif row["expires_at"] <= now:
            raise Unauthorized("token_expired", message_key="error.token_invalid")
        else:
            account = await Account.select().where(Account.id == row["account"]).first()
            if account is None or not account["active"]:
                raise Unauthorized("token_invalid", message_key="error.token_invalid")
            # Conditional update: of two concurrent refreshes with the same token, only one rotates.
            claimed = await (
                RefreshToken.update({RefreshToken.used_at: now})
                .where((RefreshToken.id == row["id"]) & RefreshToken.used_at.is_null())
                .returning(RefreshToken.id)
            )
            if not claimed:
                raise Unauthorized("refresh_reused", message_key="error.refresh_reused")
            return await _issue(rt, account, client, family=row["family"])
    # Raised after commit so the family revocation is kept.
    raise reuse


async def logout(rt: Runtime, token: str) -> None:
    row = await RefreshToken.select().where(RefreshToken.token_digest == token_digest(token)).first()
    if row is not None:
        await revoke_family(rt, row["family"])


async def revoke_family(rt: Runtime, family: uuid.UUID) -> None:
    """End every token of one login (a rotation chain): logout, reuse detection, console logout."""
    await RefreshToken.update({RefreshToken.revoked_at: rt.clock.now()}).where(
        (RefreshToken.family == family) & RefreshToken.revoked_at.is_null()
    )


async def register_citizen(rt: Runtime, data: CitizenRegisterIn, client: ClientInfo) -> TokenPair:
    """Anonymous registration by device id; a phone number is optional and never required."""
    async with rt.db.transaction():
        if await Account.exists().where(Account.device_id == data.device_id):
            raise Conflict("device_registered", message_key="error.duplicate", what="device")
        account = {"id": uuid.uuid4(), "kind": "citizen"}
        await Account.insert(
            Account(
                id=account["id"],
                kind="citizen",
                device_id=data.device_id,
                phone=data.phone,
                language=data.language,
                created_at=rt.clock.now(),
            )
        )
        return await _issue(rt, account, client)


async def actor_from_token(rt: Runtime, token: str, client: ClientInfo) -> Actor:
    claims = decode_access_token(rt.jwt_keys, token, now=rt.clock.now())
    try:
        account_id = uuid.UUID(claims["sub"])
    except ValueError as exc:
        raise Unauthorized("token_invalid", message_key="error.token_invalid") from exc
    return await actor_for_account(rt, account_id, client)


async def actor_for_account(rt: Runtime, account_id: uuid.UUID, client: ClientInfo) -> Actor:
    """The principal of an account with its current grants (revocations take effect at once).
    One statement: every authenticated request starts here."""
    rows = await rt.db.fetch(
        'SELECT a."kind", a."username", a."active", g."role", g."area", ar."path" '
        'FROM "account" a LEFT JOIN "role_grant" g ON g."account" = a."id" '
        'LEFT JOIN "area" ar ON ar."code" = g."area" WHERE a."id" = {}',
        account_id,
    )
    if not rows or not rows[0]["active"]:
        raise Unauthorized("token_invalid", message_key="error.token_invalid")
    account = rows[0]
    return Actor(
        account_id=account_id,
        kind=account["kind"],
        username=account["username"],
        grants=tuple(
            Grant(role=Role(g["role"]), area_code=g["area"], area_path=g["path"])
            for g in rows
            if g["role"] is not None
        ),
        client_addr=client.addr,
        request_id=client.request_id,
    )
