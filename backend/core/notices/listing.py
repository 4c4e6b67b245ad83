"""Listing notices for staff: what an account may read, newest first, keyset-paginated.

Drafts are visible inside the owner area's subtree; published (and ended) notices also to those
whose areas a target reaches, up or down the tree."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.core.accounts.permissions import Actor, Permission
from backend.core.areas import services as areas
from backend.core.notices.schemas import NoticeFilter, NoticeList
from backend.core.notices.services import PUBLIC_STATES, to_schema
from backend.core.notices.tables import NoticeTarget
from backend.lib.paging import decode_cursor, encode_cursor
from backend.runtime import Runtime


async def list_notices(rt: Runtime, actor: Actor, flt: NoticeFilter) -> NoticeList:
    """Notices the actor may read, newest first, keyset-paginated."""
    scopes = actor.scope_paths(Permission.NOTICE_READ)
    if not scopes:
        actor.require(Permission.NOTICE_READ)
    args: list[Any] = []
    own = " OR ".join('n."owner_path" LIKE {}' for _ in scopes)
    args += [f"{s}%" for s in scopes]
    public_states = ", ".join("{}" for _ in PUBLIC_STATES)
    args += list(PUBLIC_STATES)
    near = " OR ".join('t."area_path" LIKE {} OR {} LIKE t."area_path" || \'%\'' for _ in scopes)
    for s in scopes:
        args += [f"{s}%", s]
    sql = (
        'SELECT n.* FROM "notice" n WHERE (('
        + own
        + ') OR (n."status" IN ('
        + public_states
        + ") AND EXISTS ("
        'SELECT 1 FROM "notice_target" t WHERE t."notice" = n."id" AND (' + near + "))))"
    )
    for column, value in (
        ("status", flt.status),
        ("category", flt.category),
        ("priority", flt.priority),
        ("thread_id", flt.thread_id),
    ):
        if value is not None:
            sql += f' AND n."{column}" = {{}}'
            args.append(value)
    if flt.area:
        path = (await areas.get(rt, flt.area))["path"]
        sql += ' AND (n."owner_path" LIKE {} OR EXISTS (SELECT 1 FROM "notice_target" t2 WHERE t2."notice" = n."id" AND t2."area_path" LIKE {}))'
        args += [f"{path}%", f"{path}%"]
    if flt.cursor:
        key = decode_cursor(flt.cursor)
        sql += ' AND (n."created_at" < {} OR (n."created_at" = {} AND n."id" < {}))'
        created = datetime.fromisoformat(str(key["c"]))
        args += [created, created, uuid.UUID(str(key["i"]))]
    sql += ' ORDER BY n."created_at" DESC, n."id" DESC LIMIT {}'
    args.append(flt.limit + 1)
    rows = await rt.db.fetch(sql, *args)
    page = rows[: flt.limit]
    ids = [r["id"] for r in page]
    target_rows = await NoticeTarget.select(NoticeTarget.notice, NoticeTarget.area_code).where(
        NoticeTarget.notice.is_in(ids or [uuid.uuid4()])
    )
    by_notice: dict[Any, list[str]] = {}
    for t in target_rows:
        by_notice.setdefault(t["notice"], []).append(t["area_code"])
    items = [to_schema(_typed(r), by_notice.get(r["id"], [])) for r in page]
    next_cursor = None
    if len(rows) > flt.limit:
        last = page[-1]
        next_cursor = encode_cursor({"c": _typed(last)["created_at"].isoformat(), "i": str(last["id"])})
    return NoticeList(items=items, next_cursor=next_cursor)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Raw SQLite rows come back with UUIDs as text; give them the types Piccolo would."""
    out = dict(row)
    for key in ("id", "thread_id", "references_id", "created_by", "approved_by", "published_by"):
        if isinstance(out.get(key), str):
            out[key] = uuid.UUID(out[key])
    for key in (
        "created_at",
        "updated_at",
        "valid_from",
        "valid_until",
        "submitted_at",
        "approved_at",
        "published_at",
        "ended_at",
    ):
        if isinstance(out.get(key), str):
            out[key] = datetime.fromisoformat(out[key])
    return out
