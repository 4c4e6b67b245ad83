"""An official's scope — what their phone holds — named by a token.

The scope is the account's role grants (role × area path). Its token is a hash of them; the grants
behind every token handed out are kept, so when the grants change the server can still tell which
rows the phone holds under the old token and send exactly the removals and additions."""

from __future__ import annotations

import hashlib
import json
import uuid

from backend.core.accounts.permissions import Actor, Grant, Role
from backend.lib.db import json_column
from backend.runtime import Runtime
from backend.sync.tables import SyncScope


def grants_of(actor: Actor) -> list[list[str]]:
    return [list(g) for g in sorted({(g.role.value, g.area_code, g.area_path) for g in actor.grants})]


def token_of(grants: list[list[str]]) -> str:
    raw = json.dumps([list(g) for g in grants], separators=(",", ":"))
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def current_token(actor: Actor) -> str:
    return token_of(grants_of(actor))


async def remember(rt: Runtime, actor: Actor) -> str:
    """Keep the grants behind the actor's current token (a no-op if already kept)."""
    grants = grants_of(actor)
    token = token_of(grants)
    await rt.db.execute(
        'INSERT INTO "sync_scope" ("token", "grants", "created_at") VALUES ({}, {}, {}) '
        "ON CONFLICT DO NOTHING",
        token,
        json.dumps(grants),
        rt.clock.now(),
    )
    return token


async def token_for(rt: Runtime, actor: Actor) -> str:
    """The actor's current scope token, remembered for later comparisons."""
    token = current_token(actor)
    if not await SyncScope.exists().where(SyncScope.token == token):
        await remember(rt, actor)
    return token


async def actor_for_token(rt: Runtime, account_id: uuid.UUID | None, token: str) -> Actor | None:
    """The account as it was under ``token`` (its grants then), or None for an unknown token."""
    row = await SyncScope.select(SyncScope.grants).where(SyncScope.token == token).first()
    if row is None:
        return None
    grants = tuple(
        Grant(role=Role(role), area_code=code, area_path=path)
        for role, code, path in json_column(row["grants"])
    )
    return Actor(account_id=account_id, kind="staff", grants=grants)
