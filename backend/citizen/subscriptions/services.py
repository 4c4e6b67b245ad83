"""Subscriptions, and who should receive a given notice.

A notice reaches a citizen when one of its targets is a followed area or an ancestor of one (a
province-wide notice reaches every commune of the province) or a descendant of one (a village
notice reaches whoever follows its commune). Category choices filter everything except
emergencies."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.citizen.subscriptions.schemas import SubscribedArea, SubscriptionsIn, SubscriptionsOut
from backend.citizen.subscriptions.tables import Subscription
from backend.core.accounts.permissions import Actor
from backend.core.areas import services as areas
from backend.core.areas.tables import Area
from backend.core.categories import services as categories
from backend.lib.db import Dialect, json_column
from backend.lib.errors import Forbidden
from backend.runtime import Runtime


def require_citizen(actor: Actor) -> uuid.UUID:
    if actor.kind != "citizen" or actor.account_id is None:
        raise Forbidden("citizens_only", details={"kind": actor.kind})
    return actor.account_id


async def get(rt: Runtime, actor: Actor) -> SubscriptionsOut:
    account_id = require_citizen(actor)
    rows = (
        await Subscription.select().where(Subscription.account == account_id).order_by(Subscription.area_path)
    )
    names = {
        r["code"]: r["name"]
        for r in await Area.select(Area.code, Area.name).where(
            Area.code.is_in([r["area_code"] for r in rows] or ["-"])
        )
    }
    cats = sorted({c for r in rows for c in _json_list(r["categories"])})
    return SubscriptionsOut(
        areas=[
            SubscribedArea(code=r["area_code"], name=names.get(r["area_code"], ""), path=r["area_path"])
            for r in rows
        ],
        categories=cats,
    )


async def replace(rt: Runtime, actor: Actor, data: SubscriptionsIn) -> SubscriptionsOut:
    account_id = require_citizen(actor)
    paths = await areas.paths_for(rt, data.areas, field="areas")
    for code in data.categories:
        await categories.require_active(rt, code, field="categories")
    async with rt.db.transaction():
        await Subscription.delete().where(Subscription.account == account_id)
        if paths:
            await Subscription.insert(
                *[
                    Subscription(
                        id=uuid.uuid4(),
                        account=account_id,
                        area_code=code,
                        area_path=path,
                        categories=sorted(set(data.categories)),
                        created_at=rt.clock.now(),
                    )
                    for code, path in sorted(paths.items())
                ]
            )
    return await get(rt, actor)


async def followed_paths(rt: Runtime, account_id: uuid.UUID) -> tuple[list[str], list[str]]:
    """(area paths, category filter — empty means all) of one citizen."""
    rows = await Subscription.select(Subscription.area_path, Subscription.categories).where(
        Subscription.account == account_id
    )
    return [r["area_path"] for r in rows], sorted({c for r in rows for c in _json_list(r["categories"])})


def ancestor_paths(path: str) -> list[str]:
    """``/VN/38/14758/`` → ``["/VN/", "/VN/38/", "/VN/38/14758/"]``."""
    parts = path.strip("/").split("/")
    return [f"/{'/'.join(parts[: i + 1])}/" for i in range(len(parts))]


def subscribers_query(
    target_paths: Iterable[str], category: str, priority: str, dialect: Dialect
) -> tuple[str, list[Any]] | None:
    """``SELECT s."account" …`` (an account may come once per followed area) of the accounts that
    should receive a notice with these targets, category and priority, with its ``{}`` arguments;
    None when there is no target. A fan-out plans its rows from it inside the database."""
    targets = sorted(set(target_paths))
    if not targets:
        return None
    args: list[Any] = []
    clauses = []
    for path in targets:
        # The follower's area lies inside the target (target is an ancestor) or the target lies
        # inside the followed area.
        clause, more = prefix_clause('s."area_path"', path, dialect)
        clauses.append(clause)
        args.extend(more)
        ancestors = ancestor_paths(path)
        clauses.append('s."area_path" IN (' + ", ".join("{}" for _ in ancestors) + ")")
        args.extend(ancestors)
    # A deactivated account is told nothing, whatever it still follows.
    sql = (
        'SELECT s."account" FROM "subscription" s JOIN "account" a ON a."id" = s."account" AND a."active" '
        "WHERE (" + " OR ".join(clauses) + ")"
    )
    if priority != "emergency":  # the rule of ``wants``: no choice means everything
        if dialect == "sqlite":
            sql += (
                ' AND (CASE WHEN s."categories" = \'\' THEN 1 WHEN json_array_length(s."categories") = 0 THEN 1 '
                'ELSE EXISTS (SELECT 1 FROM json_each(s."categories") c WHERE c."value" = {}) END)'
            )
        else:
            sql += (
                ' AND (json_array_length(s."categories") = 0 '
                'OR s."categories"::jsonb @> jsonb_build_array({}::text))'
            )
        args.append(category)
    return sql, args


async def subscribers(
    rt: Runtime, target_paths: Iterable[str], category: str, priority: str
) -> list[uuid.UUID]:
    """Accounts that should receive a notice with these targets, category and priority."""
    query = subscribers_query(target_paths, category, priority, rt.db.dialect)
    if query is None:
        return []
    sql, args = query
    rows = await rt.db.fetch('SELECT DISTINCT "account" FROM (' + sql + ") a", *args)
    out = [
        r["account"] if isinstance(r["account"], uuid.UUID) else uuid.UUID(str(r["account"])) for r in rows
    ]
    return sorted(out, key=_uuid_int)  # the order of UUIDs, without their slow __lt__


def _uuid_int(value: uuid.UUID) -> int:
    return value.int


def wants(categories: Sequence[str], category: str, priority: str) -> bool:
    """The category rule: no choice means everything; emergencies always come through."""
    return priority == "emergency" or not categories or category in categories


@dataclass(frozen=True)
class Followed:
    """What one citizen follows, and the language their account asked for."""

    account_id: uuid.UUID
    language: str
    paths: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """Changes whenever the followed areas or categories change."""
        raw = "|".join(self.paths) + "#" + "|".join(self.categories)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


async def followed(rt: Runtime, account_id: uuid.UUID) -> Followed:
    """One query: the account's language with its followed areas and categories."""
    rows = await rt.db.fetch(
        'SELECT a."language" AS "language", s."area_path" AS "area_path", s."categories" AS "categories" '
        'FROM "account" a LEFT JOIN "subscription" s ON s."account" = a."id" WHERE a."id" = {}',
        account_id,
    )
    language = str(rows[0]["language"] or "vi") if rows else "vi"
    subscribed = [r for r in rows if r["area_path"] is not None]
    return Followed(
        account_id=account_id,
        language=language,
        paths=tuple(sorted({r["area_path"] for r in subscribed})),
        categories=tuple(sorted({c for r in subscribed for c in _json_list(r["categories"])})),
    )


def prefix_clause(
    column: str, prefix: str, dialect: Dialect, *, strict: bool = False
) -> tuple[str, list[Any]]:
    """SQL true when ``column`` starts with ``prefix`` (a path ending in ``/``), as a byte-wise
    range an index can serve: ``[prefix, prefix with its last byte + 1)``.

    SQLite compares with the default binary collation (its LIKE is case-insensitive and skips a
    plain index). PostgreSQL uses the byte-wise pattern operators of the ``varchar_pattern_ops``
    indexes, whatever the database collation; unlike ``LIKE $1`` they keep using the index in the
    generic plans of prepared statements."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if dialect == "sqlite":
        low, high = (">" if strict else ">="), "<"
    else:
        low, high = ("~>~" if strict else "~>=~"), "~<~"
    return f"({column} {low} {{}} AND {column} {high} {{}})", [prefix, upper]


def reach_clause(column: str, paths: Sequence[str], dialect: Dialect) -> tuple[str, list[Any]]:
    """SQL true when an area path in ``column`` reaches someone following ``paths``: it is a
    followed area, an ancestor of one, or lies inside one — the mirror of :func:`subscribers`."""
    ancestors = sorted({a for p in paths for a in ancestor_paths(p)})
    clauses = [f"{column} IN (" + ", ".join("{}" for _ in ancestors) + ")"]
    args: list[Any] = list(ancestors)
    for path in paths:
        sql, more = prefix_clause(column, path, dialect, strict=True)
        clauses.append(sql)
        args += more
    return "(" + " OR ".join(clauses) + ")", args


def _json_list(value: Any) -> list[str]:
    return list(json_column(value, []))
