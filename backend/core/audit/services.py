"""Append to and read the audit log. There is deliberately no update or delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.audit.schemas import AuditEntryOut, AuditFilter, AuditPage
from backend.core.audit.tables import AuditEntry
from backend.lib.db import json_column
from backend.lib.paging import decode_cursor, encode_cursor
from backend.runtime import Runtime


async def record(
    rt: Runtime,
    actor: Actor,
    action: str,
    *,
    target_type: str = "",
    target_id: str = "",
    grant: Grant | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one entry; call inside the transaction of the action so both commit or neither."""
    used = grant or (actor.grants[0] if actor.grants else None)
    await AuditEntry.insert(
        AuditEntry(
            at=rt.clock.now(),
            actor_id=actor.account_id,
            actor_role=used.role.value if used else actor.kind,
            actor_area=used.area_code if used else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            client_addr=actor.client_addr,
            request_id=actor.request_id,
            details=details or {},
        )
    )


async def list_entries(rt: Runtime, actor: Actor, flt: AuditFilter) -> AuditPage:
    actor.require(Permission.AUDIT_READ)
    query = AuditEntry.select()
    where = []
    if flt.action:
        where.append(AuditEntry.action == flt.action)
    if flt.actor_id:
        where.append(AuditEntry.actor_id == flt.actor_id)
    if flt.target_type:
        where.append(AuditEntry.target_type == flt.target_type)
    if flt.target_id:
        where.append(AuditEntry.target_id == flt.target_id)
    if flt.since:
        where.append(AuditEntry.at >= flt.since)
    if flt.until:
        where.append(AuditEntry.at < flt.until)
    if flt.cursor:
        last_id = int(decode_cursor(flt.cursor)["id"])
        where.append(AuditEntry.id < last_id)
    for condition in where:
        query = query.where(condition)
    rows = await query.order_by(AuditEntry.id, ascending=False).limit(flt.limit + 1)
    items = [_to_schema(r) for r in rows[: flt.limit]]
    next_cursor = encode_cursor({"id": rows[flt.limit - 1]["id"]}) if len(rows) > flt.limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


def _to_schema(row: dict[str, Any]) -> AuditEntryOut:
    at: datetime = row["at"]
    return AuditEntryOut(
        id=row["id"],
        at=at,
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        actor_area=row["actor_area"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        client_addr=row["client_addr"],
        request_id=row["request_id"],
        details=_details(row["details"]),
    )


def _details(value: Any) -> dict[str, Any]:
    """Piccolo hands JSON columns back as text; the API shows them as objects."""
    value = json_column(value, {})
    return value if isinstance(value, dict) else {}
