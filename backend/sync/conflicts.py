"""Conflict records: every same-field conflict, with all the values involved, until an official
decides. ``keep`` leaves the value the field's rule chose; ``restore`` writes the losing value back
(as a normal, audited edit of the row). Conflicts are themselves a synced table, so the phone lists
them offline and resolving one is an ordinary mutation of its ``resolution`` field."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from backend.core.accounts.permissions import Actor
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.db import json_column
from backend.lib.errors import Forbidden, NotFound
from backend.runtime import Runtime
from backend.sync.registry import Context, Field, Registry, Row, SyncedTable, paths_visible, uuid_id
from backend.sync.schemas import ConflictList, ConflictOut
from backend.sync.source import wire_value
from backend.sync.tables import SyncConflict

TABLE = "conflict"


class ConflictFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    resolution: Literal["keep", "restore"] | None = None


async def record(
    ctx: Context,
    table: str,
    row: Row,
    field: str,
    rule: str,
    values: dict[str, Any],
) -> str:
    conflict_id = uuid.uuid4()
    await SyncConflict.insert(
        SyncConflict(
            id=conflict_id,
            table_name=table,
            row_id=row.id,
            field=field,
            rule=rule,
            values=values,
            device_id=ctx.device_id,
            seq=ctx.seq,
            account=ctx.actor.account_id,
            area_paths=list(row.paths),
            status="open",
            created_at=ctx.rt.clock.now(),
        )
    )
    await record_change(
        ctx.rt,
        table=TABLE,
        row_id=str(conflict_id),
        op="upsert",
        area_paths=row.paths,
        actor_id=ctx.actor.account_id,
    )
    return str(conflict_id)


def _row(record: dict[str, Any]) -> Row:
    values = json_column(record["values"], {})
    data = {
        "table": record["table_name"],
        "row": record["row_id"],
        "field": record["field"],
        "rule": record["rule"],
        "base": values.get("base"),
        "server": values.get("server"),
        "client": values.get("client"),
        "result": values.get("result"),
        "device": record["device_id"],
        "seq": record["seq"],
        "by": wire_value(record["account"]),
        "status": record["status"],
        "resolution": record["resolution"],
        "at": wire_value(record["created_at"]),
    }
    return Row(
        id=str(record["id"]), data=data, paths=tuple(json_column(record["area_paths"], [])), raw=record
    )


async def load(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    wanted = [uuid.UUID(i) for i in ids if uuid_id(i)]
    out: dict[str, Row] = {}
    for start in range(0, len(wanted), 500):
        for record in await SyncConflict.select().where(SyncConflict.id.is_in(wanted[start : start + 500])):
            row = _row(record)
            out[row.id] = row
    return out


def _visible(registry: Registry, actor: Actor, row: Row) -> bool:
    """Open conflicts about rows the official may see (by the conflicted table's scope rule)."""
    if row.data["status"] != "open":
        return False
    table = registry.get(row.data["table"])
    if table is None:
        return False
    return paths_visible(row.paths, table.scope_paths(actor), table.ancestors)


def conflict_out(row: Row) -> ConflictOut:
    r = row.raw
    values = json_column(r["values"], {})
    return ConflictOut(
        id=row.id,
        table=r["table_name"],
        row_id=r["row_id"],
        field=r["field"],
        rule=r["rule"],
        base=values.get("base"),
        server=values.get("server"),
        client=values.get("client"),
        result=values.get("result"),
        device_id=r["device_id"],
        seq=r["seq"],
        account=wire_value(r["account"]),
        status=r["status"],
        resolution=r["resolution"],
        created_at=r["created_at"],
        resolved_at=r["resolved_at"],
    )


async def _open_rows(rt: Runtime, registry: Registry, actor: Actor) -> list[Row]:
    records = (
        await SyncConflict.select().where(SyncConflict.status == "open").order_by(SyncConflict.created_at)
    )
    rows = [_row(r) for r in records]
    return [r for r in rows if _visible(registry, actor, r)]


async def list_open(rt: Runtime, registry: Registry, actor: Actor) -> ConflictList:
    if actor.kind != "staff":
        raise Forbidden()
    return ConflictList(items=[conflict_out(r) for r in await _open_rows(rt, registry, actor)])


async def apply_resolution(ctx: Context, registry: Registry, row: Row, resolution: str) -> None:
    """Settle one open conflict; ``restore`` edits the conflicted row through its own table's rules."""
    if resolution == "restore":
        table = registry.get(row.data["table"])
        if table is None or table.update is None:
            raise Forbidden(details={"reason": "this table cannot be edited"})
        loaded = (await table.load(ctx.rt, [row.data["row"]])).get(row.data["row"])
        if loaded is None:
            raise NotFound("resource", details={"table": row.data["table"], "id": row.data["row"]})
        lost = row.data["server"] if row.data["result"] == row.data["client"] else row.data["client"]
        await table.update(ctx, loaded, {row.data["field"]: lost})
    now = ctx.rt.clock.now()
    await SyncConflict.update(
        {
            SyncConflict.status: "resolved",
            SyncConflict.resolution: resolution,
            SyncConflict.resolved_by: ctx.actor.account_id,
            SyncConflict.resolved_at: now,
        }
    ).where(SyncConflict.id == uuid.UUID(row.id))
    await record_change(
        ctx.rt, table=TABLE, row_id=row.id, op="upsert", area_paths=row.paths, actor_id=ctx.actor.account_id
    )
    await audit.record(
        ctx.rt,
        ctx.actor,
        "sync.conflict_resolve",
        target_type=row.data["table"],
        target_id=row.data["row"],
        details={
            **ctx.audit_details,
            "conflict": row.id,
            "field": row.data["field"],
            "resolution": resolution,
        },
    )


async def resolve(
    rt: Runtime, registry: Registry, actor: Actor, conflict_id: uuid.UUID, resolution: str
) -> ConflictOut:
    """From the web console (the phone resolves through a mutation of the conflict row)."""
    async with rt.db.transaction():
        row = (await load(rt, [str(conflict_id)])).get(str(conflict_id))
        if row is None or not _visible(registry, actor, row):
            raise NotFound("conflict", details={"id": str(conflict_id)})
        await apply_resolution(Context(rt=rt, actor=actor, device_id="web"), registry, row, resolution)
    resolved = (await load(rt, [str(conflict_id)]))[str(conflict_id)]
    return conflict_out(resolved)


def synced_table(registry: Registry) -> SyncedTable:
    async def ids_in_scope(rt: Runtime, actor: Actor) -> list[str]:
        return sorted(r.id for r in await _open_rows(rt, registry, actor))

    async def update(ctx: Context, row: Row, values: dict[str, Any]) -> None:
        resolution = values.get("resolution")
        if resolution:
            await apply_resolution(ctx, registry, row, resolution)

    return SyncedTable(
        name=TABLE,
        load=load,
        ids_in_scope=ids_in_scope,
        visible=lambda actor, row: _visible(registry, actor, row),
        fields={"resolution": Field("server_wins")},
        schema=ConflictFields,
        update=update,
    )
