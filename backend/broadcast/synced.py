"""Broadcast on officials' phones: each station's week schedule, and the manual entries of its
broadcast log ("nhật ký"), for the communes where the official keeps them.

- ``schedule``: one row per station (id = the station's id) holding the week in force. An official
  edits ``sessions`` and ``note`` offline; the sync saves a new version through the very service the
  web console uses (days, windows, quiet hours, groups, overlaps checked; versioned; audited
  ``schedule.save`` naming the device; the conflicts view then shows overlong sessions and border
  overlaps). A week both sides changed: the later sync's week stands (``client_wins``) and the
  replaced week is kept in the conflict record, restorable. A phone never creates or deletes one.
- ``broadcast_log``: one row per manual entry (id = the entry's client id, a UUID the phone makes).
  Created offline from the paper log through the same service as the web (times, groups checked,
  stored once per client id, audited), corrected later (``result``, ``detail``: ``client_wins``,
  audited ``broadcast.log_correct``); ``station``, times, session, group, notices and clusters are
  set when the entry is made. Entries are never deleted.

Scope: stations whose commune lies in a grant with ``SCHEDULE_EDIT`` (schedules) or
``BROADCAST_LOG`` (the log)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from backend.broadcast.log import services as log
from backend.broadcast.log.schemas import ManualEntryIn, PlayResult
from backend.broadcast.schedules import services as schedules
from backend.broadcast.schedules.schemas import ScheduleIn, WeekSessionIn
from backend.broadcast.tables import PlayRecord, Station
from backend.core.accounts.permissions import Actor, Permission
from backend.lib.db import json_column
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.runtime import Runtime
from backend.sync import (
    Context,
    Field,
    Registry,
    Row,
    RowChanged,
    SyncedTable,
    scope_condition,
    uuid_id,
    wire_value,
)


class ScheduleFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sessions: list[WeekSessionIn] | None = None
    note: str | None = None


class LogFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    station: uuid.UUID | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    result: PlayResult | None = None
    session: uuid.UUID | None = None
    group: uuid.UUID | None = None
    notices: list[uuid.UUID] | None = None
    clusters: list[str] | None = None
    detail: str | None = None


def _typed(values: dict[str, Any], kind: type[Any]) -> Any:
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([{"field": "f", "reason": str(exc)}]) from exc


def _uuids(ids: Sequence[str]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids if uuid_id(i)]


async def _stations(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        for r in await Station.select().where(Station.id.is_in(ids[start : start + 500])):
            out[r["id"]] = r
    return out


async def _stations_in_scope(rt: Runtime, actor: Actor, permission: Permission) -> list[uuid.UUID]:
    condition = scope_condition(Station.area_path, actor.scope_paths(permission), False)
    if condition is None:
        return []
    return [r["id"] for r in await Station.select(Station.id).where(condition)]


# --- schedules ----------------------------------------------------------------------------------


async def load_schedules(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    stations = await _stations(_uuids(ids))
    out: dict[str, Row] = {}
    if not stations:
        return out
    keys = list(stations)
    marks = ", ".join("{}" for _ in keys)
    current = await rt.db.fetch(
        f'SELECT s."station_id", s."version", s."sessions", s."note" FROM "broadcast_schedule" s '
        f'WHERE s."station_id" IN ({marks}) AND s."version" = (SELECT max(t."version") FROM '
        '"broadcast_schedule" t WHERE t."station_id" = s."station_id")',
        *keys,
    )
    for r in current:
        station_id = r["station_id"] if isinstance(r["station_id"], uuid.UUID) else uuid.UUID(r["station_id"])
        station = stations[station_id]
        sessions = msgspec.convert(json_column(r["sessions"], []), list[WeekSessionIn])
        data = {
            "station": str(station_id),
            "area": station["area_code"],
            "name": station["name"],
            "version": r["version"],
            "sessions": msgspec.to_builtins(sessions),
            "note": r["note"],
        }
        out[str(station_id)] = Row(id=str(station_id), data=data, paths=(station["area_path"],), raw=r)
    return out


async def schedules_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    return sorted(str(i) for i in await _stations_in_scope(rt, actor, Permission.SCHEDULE_EDIT))


async def update_schedule(ctx: Context, row: Row, values: dict[str, Any]) -> None:
    data = {
        "version": row.data["version"],
        "sessions": values.get("sessions", row.data["sessions"]),
        "note": values.get("note", row.data["note"]),
    }
    try:
        await schedules.save_schedule(
            ctx.rt, ctx.actor, uuid.UUID(row.id), _typed(data, ScheduleIn), details=ctx.audit_details
        )
    except Conflict as exc:
        if exc.code == "stale_version":
            raise RowChanged() from exc
        raise


# --- manual log entries -------------------------------------------------------------------------


def _client_id(report_id: str) -> str | None:
    head = report_id[:36]
    return head if report_id[36:37] == ":" and log.synced_id(head) else None


async def load_entries(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    wanted = [i for i in ids if uuid_id(i)]
    rows: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        condition = None
        for client_id in chunk:
            clause = PlayRecord.report_id.like(f"{client_id}:%")  # UUIDs hold no LIKE wildcards
            condition = clause if condition is None else condition | clause
        for r in await PlayRecord.select().where((PlayRecord.source == "manual") & condition):
            client_id = _client_id(r["report_id"])
            if client_id is not None:
                rows.setdefault(client_id, []).append(r)
    stations = await _stations(sorted({r[0]["station_id"] for r in rows.values() if r[0]["station_id"]}))
    out: dict[str, Row] = {}
    for client_id, records in rows.items():
        first = records[0]
        station = stations.get(first["station_id"])
        if station is None:
            continue
        clusters = sorted(
            {r["device_id"][len(log.MANUAL_PREFIX) :] for r in records} - {str(first["station_id"])}
        )
        data = {
            "station": str(first["station_id"]),
            "started_at": wire_value(first["started_at"]),
            "ended_at": wire_value(first["ended_at"]),
            "result": first["result"],
            "session": wire_value(first["session_id"]),
            "group": wire_value(first["group_id"]),
            "notices": sorted({str(r["notice_id"]) for r in records if r["notice_id"]}),
            "clusters": clusters,
            "detail": first["detail"],
            "by": wire_value(first["recorded_by"]),
        }
        out[client_id] = Row(id=client_id, data=data, paths=(station["area_path"],), raw=first)
    return out


async def entries_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    stations = await _stations_in_scope(rt, actor, Permission.BROADCAST_LOG)
    found: set[str] = set()
    for start in range(0, len(stations), 500):
        for r in await PlayRecord.select(PlayRecord.report_id).where(
            (PlayRecord.source == "manual") & PlayRecord.station_id.is_in(stations[start : start + 500])
        ):
            client_id = _client_id(r["report_id"])
            if client_id is not None:
                found.add(client_id)
    return sorted(found)


async def create_entry(ctx: Context, row_id: str, values: dict[str, Any]) -> None:
    typed = _typed(values, LogFields)
    missing = [f for f in ("station", "started_at", "ended_at") if getattr(typed, f) is None]
    if missing:
        raise ValidationFailed([{"field": f"f.{f}", "reason": "required"} for f in missing])
    entry = ManualEntryIn(
        client_id=row_id,
        started_at=typed.started_at,
        ended_at=typed.ended_at,
        result=typed.result or "played",
        session_id=typed.session,
        group_id=typed.group,
        notice_ids=typed.notices or [],
        clusters=typed.clusters or [],
        detail=typed.detail or "",
    )
    try:
        await log.record_manual(ctx.rt, ctx.actor, typed.station, entry, details=ctx.audit_details)
    except NotFound as exc:
        raise ValidationFailed([{"field": "f.station", "reason": "no such station"}]) from exc


async def correct_entry(ctx: Context, row: Row, values: dict[str, Any]) -> None:
    await log.correct_manual(
        ctx.rt, ctx.actor, uuid.UUID(row.data["station"]), row.id, values, details=ctx.audit_details
    )


def register(registry: Registry) -> None:
    registry.add(
        SyncedTable(
            name=schedules.SCHEDULE_TABLE,
            load=load_schedules,
            ids_in_scope=schedules_in_scope,
            permission=Permission.SCHEDULE_EDIT,
            fields={"sessions": Field("client_wins"), "note": Field("client_wins")},
            schema=ScheduleFields,
            update=update_schedule,
            shared=True,  # scope by the stations in the grants' areas
        )
    )
    create_only = Field("server_wins", create_only=True)
    registry.add(
        SyncedTable(
            name=log.LOG_TABLE,
            load=load_entries,
            ids_in_scope=entries_in_scope,
            permission=Permission.BROADCAST_LOG,
            fields={
                "station": create_only,
                "started_at": create_only,
                "ended_at": create_only,
                "session": create_only,
                "group": create_only,
                "notices": create_only,
                "clusters": create_only,
                "result": Field("client_wins"),
                "detail": Field("client_wins"),
            },
            schema=LogFields,
            create=create_entry,
            update=correct_entry,
            shared=True,  # scope by the stations in the grants' areas
        )
    )
