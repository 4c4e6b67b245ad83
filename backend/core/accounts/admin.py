"""Staff administration: accounts, role grants on area subtrees, activation. Every change is audited."""

from __future__ import annotations

import uuid
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.accounts.schemas import AccountList, AccountOut, GrantIn, GrantOut, StaffAccountIn
from backend.core.accounts.tables import Account, RefreshToken, RoleGrant
from backend.core.areas import services as areas
from backend.core.audit import services as audit
from backend.lib.crypto import hash_password
from backend.lib.errors import Conflict, NotFound
from backend.runtime import Runtime


async def _grants_out(account_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[GrantOut]]:
    rows = await RoleGrant.select(
        RoleGrant.id, RoleGrant.account, RoleGrant.role, RoleGrant.area, RoleGrant.area.name
    ).where(RoleGrant.account.is_in(account_ids or [uuid.uuid4()]))
    out: dict[uuid.UUID, list[GrantOut]] = {}
    for r in rows:
        out.setdefault(r["account"], []).append(
            GrantOut(id=r["id"], role=r["role"], area_code=r["area"], area_name=r["area.name"])
        )
    return out


def _account_out(row: dict[str, Any], grants: list[GrantOut]) -> AccountOut:
    return AccountOut(
        id=row["id"],
        kind=row["kind"],
        username=row["username"],
        full_name=row["full_name"],
        active=row["active"],
        created_at=row["created_at"],
        grants=grants,
    )


async def get_account(rt: Runtime, actor: Actor, account_id: uuid.UUID) -> AccountOut:
    if account_id != actor.account_id:
        actor.require(Permission.ACCOUNT_MANAGE)
    row = await Account.select().where(Account.id == account_id).first()
    if row is None:
        raise NotFound("account")
    return _account_out(row, (await _grants_out([account_id])).get(account_id, []))


async def list_staff(rt: Runtime, actor: Actor) -> AccountList:
    actor.require(Permission.ACCOUNT_MANAGE)
    rows = await Account.select().where(Account.kind == "staff").order_by(Account.username)
    grants = await _grants_out([r["id"] for r in rows])
    return AccountList(items=[_account_out(r, grants.get(r["id"], [])) for r in rows])


async def create_staff(rt: Runtime, actor: Actor, data: StaffAccountIn) -> AccountOut:
    used = actor.require(Permission.ACCOUNT_MANAGE)
    await areas.paths_for(rt, [g.area_code for g in data.grants], field="grants.area_code")
    async with rt.db.transaction():
        account_id = await _insert_staff(
            rt,
            actor,
            data.username.lower(),
            data.password,
            data.full_name,
            data.grants,
            phone=data.phone,
            used=used,
        )
        if account_id is None:
            raise Conflict("username_taken", message_key="error.duplicate", what="account")
    return await get_account(rt, actor, account_id)


async def _insert_staff(
    rt: Runtime,
    actor: Actor,
    username: str,
    password: str,
    full_name: str,
    grants: list[GrantIn],
    *,
    phone: str | None = None,
    used: Grant | None = None,
) -> uuid.UUID | None:
    """Insert a staff account with its grants and the audit entry; None if the username is taken.

    Runs in the caller's transaction."""
    if await Account.exists().where(Account.username == username):
        return None
    account_id = uuid.uuid4()
    await Account.insert(
        Account(
            id=account_id,
            kind="staff",
            username=username,
            password_hash=hash_password(password),
            full_name=full_name,
            phone=phone,
            created_at=rt.clock.now(),
        )
    )
    for g in grants:
        await _add_grant(rt, account_id, g, actor)
    await audit.record(
        rt,
        actor,
        "account.create",
        target_type="account",
        target_id=str(account_id),
        grant=used,
        details={"username": username, "grants": [[g.role.value, g.area_code] for g in grants]},
    )
    return account_id


async def _add_grant(rt: Runtime, account_id: uuid.UUID, grant: GrantIn, actor: Actor) -> uuid.UUID:
    exists = await RoleGrant.exists().where(
        (RoleGrant.account == account_id)
        & (RoleGrant.role == grant.role.value)
        & (RoleGrant.area == grant.area_code)
    )
    if exists:
        raise Conflict("grant_exists", message_key="error.duplicate", what="resource")
    grant_id = uuid.uuid4()
    await RoleGrant.insert(
        RoleGrant(
            id=grant_id,
            account=account_id,
            role=grant.role.value,
            area=grant.area_code,
            granted_by=actor.account_id,
            created_at=rt.clock.now(),
        )
    )
    return grant_id


async def add_grant(rt: Runtime, actor: Actor, account_id: uuid.UUID, grant: GrantIn) -> AccountOut:
    used = actor.require(Permission.ACCOUNT_MANAGE)
    await areas.paths_for(rt, [grant.area_code], field="area_code")
    async with rt.db.transaction():
        if not await Account.exists().where(Account.id == account_id):
            raise NotFound("account")
        grant_id = await _add_grant(rt, account_id, grant, actor)
        await audit.record(
            rt,
            actor,
            "account.grant",
            target_type="account",
            target_id=str(account_id),
            grant=used,
            details={"grant_id": str(grant_id), "role": grant.role.value, "area": grant.area_code},
        )
    return await get_account(rt, actor, account_id)


async def revoke_grant(rt: Runtime, actor: Actor, account_id: uuid.UUID, grant_id: uuid.UUID) -> AccountOut:
    used = actor.require(Permission.ACCOUNT_MANAGE)
    async with rt.db.transaction():
        deleted = (
            await RoleGrant.delete()
            .where((RoleGrant.id == grant_id) & (RoleGrant.account == account_id))
            .returning(RoleGrant.role, RoleGrant.area)
        )
        if not deleted:
            raise NotFound("resource")
        await audit.record(
            rt,
            actor,
            "account.revoke",
            target_type="account",
            target_id=str(account_id),
            grant=used,
            details={"grant_id": str(grant_id), "role": deleted[0]["role"], "area": deleted[0]["area"]},
        )
    return await get_account(rt, actor, account_id)


async def set_active(rt: Runtime, actor: Actor, account_id: uuid.UUID, active: bool) -> AccountOut:
    used = actor.require(Permission.ACCOUNT_MANAGE)
    async with rt.db.transaction():
        rows = (
            await Account.update({Account.active: active})
            .where(Account.id == account_id)
            .returning(Account.id)
        )
        if not rows:
            raise NotFound("account")
        if not active:
            await RefreshToken.update({RefreshToken.revoked_at: rt.clock.now()}).where(
                (RefreshToken.account == account_id) & RefreshToken.revoked_at.is_null()
            )
        await audit.record(
            rt,
            actor,
            "account.activate" if active else "account.deactivate",
            target_type="account",
            target_id=str(account_id),
            grant=used,
        )
    return await get_account(rt, actor, account_id)


async def ensure_staff(
    rt: Runtime, username: str, password: str, full_name: str, grants: list[GrantIn]
) -> bool:
    """Create a staff account if missing (CLI and demo data); returns True when created."""
    async with rt.db.transaction():
        created = await _insert_staff(rt, Actor.system("bootstrap"), username, password, full_name, grants)
    return created is not None
