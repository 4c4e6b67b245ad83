"""A synced table in a few lines: rows of one Piccolo table with an id column and an area-path column.

:class:`TableSource` builds the :class:`~backend.sync.registry.SyncedTable` hooks (load, scope
listing, and — when ``write_permission`` is given — create, update and delete with the change-log
entry and the audit entry in the caller's transaction). A domain with richer rules (a lifecycle,
side effects) writes its own hooks instead, as notices and feedback do."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.db import json_column
from backend.runtime import Runtime
from backend.sync.registry import Context, Field, Row, SyncedTable, ancestor_paths, any_id

PathOf = Callable[[Context, dict[str, Any]], Awaitable[str]]
Validate = Callable[[Context, Row | None, dict[str, Any]], Awaitable[None]]


_TIMES = (datetime, date)


def wire_value(value: Any) -> Any:
    """Table values as JSON: times in ISO 8601, UUIDs as text, JSON columns decoded."""
    if isinstance(value, _TIMES):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def like_prefix(path: str) -> str:
    """A LIKE pattern matching ``path`` and everything below it (``%`` and ``_`` taken literally)."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def scope_condition(column: Column, scopes: Sequence[str], ancestors: bool) -> Any:
    """Piccolo condition: the path lies in one of the scopes (or above one, with ``ancestors``)."""
    condition = None
    for scope in scopes:
        clause = column.like(like_prefix(scope))
        condition = clause if condition is None else condition | clause
    if ancestors:
        above = sorted({a for s in scopes for a in ancestor_paths(s)})
        if above:
            clause = column.is_in(above)
            condition = clause if condition is None else condition | clause
    return condition


@dataclass
class TableSource:
    table: type[Table]
    name: str
    id: Column
    path: Column
    columns: Mapping[str, Column]  # wire name → column
    permission: Permission | None = None
    ancestors: bool = False
    fields: Mapping[str, Field] = field(default_factory=dict)
    schema: type | None = None
    write_permission: Permission | None = None
    path_of: PathOf | None = None  # the area path of a new row (or a moved one), from its values
    path_fields: frozenset[str] = frozenset()  # writable fields that move a row to another area
    validate: Validate | None = None
    json_columns: frozenset[str] = frozenset()

    def synced(self) -> SyncedTable:
        writable = self.write_permission is not None
        return SyncedTable(
            name=self.name,
            load=self.load,
            ids_in_scope=self.ids_in_scope,
            permission=self.permission,
            ancestors=self.ancestors,
            fields=self.fields,
            schema=self.schema,
            create=self.create if writable else None,
            update=self.update if writable else None,
            delete=self.delete if writable else None,
            id_check=any_id,
            shared=True,  # scope by area paths and grants only
        )

    def _row(self, record: dict[str, Any]) -> Row:
        data = {}
        for wire, column in self.columns.items():
            value = record[column._meta.name]
            if wire in self.json_columns:
                value = json_column(value)
            data[wire] = wire_value(value)
        return Row(
            id=str(record[self.id._meta.name]),
            data=data,
            paths=(record[self.path._meta.name],),
            raw=record,
        )

    async def load(self, rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
        out: dict[str, Row] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            records = await self.table.select().where(self.id.is_in(wanted[start : start + 500]))
            for record in records:
                row = self._row(record)
                out[row.id] = row
        return out

    async def ids_in_scope(self, rt: Runtime, actor: Actor) -> list[str]:
        scopes = (
            actor.scope_paths(self.permission)
            if self.permission is not None
            else [g.area_path for g in actor.grants]
        )
        condition = scope_condition(self.path, scopes, self.ancestors)
        if condition is None:
            return []
        records = await self.table.select(self.id).where(condition)
        return sorted(str(r[self.id._meta.name]) for r in records)

    def _values(self, values: dict[str, Any]) -> dict[Column, Any]:
        return {self.columns[k]: v for k, v in values.items() if k in self.columns}

    async def create(self, ctx: Context, row_id: str, values: dict[str, Any]) -> None:
        assert self.write_permission is not None and self.path_of is not None
        if self.validate is not None:
            await self.validate(ctx, None, values)
        path = await self.path_of(ctx, values)
        grant = ctx.actor.require(self.write_permission, [path])
        record = {c._meta.name: v for c, v in self._values(values).items()}
        record[self.id._meta.name] = row_id
        record[self.path._meta.name] = path
        await self.table.insert(self.table(**record))
        await record_change(
            ctx.rt,
            table=self.name,
            row_id=row_id,
            op="upsert",
            area_paths=[path],
            actor_id=ctx.actor.account_id,
        )
        await audit.record(
            ctx.rt,
            ctx.actor,
            f"{self.name}.create",
            target_type=self.name,
            target_id=row_id,
            grant=grant,
            details=ctx.audit_details,
        )

    async def update(self, ctx: Context, row: Row, values: dict[str, Any]) -> None:
        assert self.write_permission is not None
        if self.validate is not None:
            await self.validate(ctx, row, values)
        grant = ctx.actor.require(self.write_permission, row.paths)
        changes = self._values(values)
        paths = list(row.paths)
        if self.path_of is not None and self.path_fields & set(values):
            new_path = await self.path_of(ctx, {**row.data, **values})
            if new_path not in paths:
                ctx.actor.require(self.write_permission, [new_path])
                changes[self.path] = new_path
                paths.append(new_path)
        if changes:
            await self.table.update(changes).where(self.id == row.raw[self.id._meta.name])
        await record_change(
            ctx.rt,
            table=self.name,
            row_id=row.id,
            op="upsert",
            area_paths=paths,
            actor_id=ctx.actor.account_id,
        )
        await audit.record(
            ctx.rt,
            ctx.actor,
            f"{self.name}.edit",
            target_type=self.name,
            target_id=row.id,
            grant=grant,
            details={**ctx.audit_details, "fields": sorted(values)},
        )

    async def delete(self, ctx: Context, row: Row) -> None:
        assert self.write_permission is not None
        grant = ctx.actor.require(self.write_permission, row.paths)
        await self.table.delete().where(self.id == row.raw[self.id._meta.name])
        await record_change(
            ctx.rt,
            table=self.name,
            row_id=row.id,
            op="delete",
            area_paths=row.paths,
            actor_id=ctx.actor.account_id,
        )
        await audit.record(
            ctx.rt,
            ctx.actor,
            f"{self.name}.delete",
            target_type=self.name,
            target_id=row.id,
            grant=grant,
            details=ctx.audit_details,
        )
