"""Pieces the benchmarks share: the fresh-database guard and real staff actors."""

from __future__ import annotations

import uuid

from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.tables import Account, RoleGrant
from backend.lib.db import Database
from backend.runtime import Runtime


async def require_empty(db: Database) -> None:
    """Benchmarks create their own schema and data; refuse a database that already holds tables."""
    if db.dialect == "sqlite":
        sql = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()"
    if int(await db.fetchval(sql) or 0) > 0:
        raise SystemExit(f"{db.url}: the database already holds tables; give a fresh, empty database")


async def staff(rt: Runtime, role: Role, area_code: str) -> Actor:
    """A real actor: an account and a role grant in the database, loaded the way requests load them."""
    account_id = uuid.uuid4()
    await Account.insert(
        Account(
            id=account_id, kind="staff", username=f"bench{account_id.hex[:12]}", created_at=rt.clock.now()
        )
    )
    await RoleGrant.insert(RoleGrant(id=uuid.uuid4(), account=account_id, role=role.value, area=area_code))
    return await accounts.actor_for_account(rt, account_id, accounts.ClientInfo("127.0.0.1", "bench"))
