"""Stations and groups: creation, rules, reading, and the lookups the other broadcast parts use.

A station belongs to one commune; its rules are set by the commune leader or the province
(``station.manage``) and read by anyone who may read notices or keep the schedule there. Every
change is audited and bumps ``row_version`` (edits carry it, so a stale edit is a 409); a change of
rules also bumps ``rules_version`` and asks the worker to rebuild the station's manifests."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.broadcast.stations.rules import day_allowed, max_minutes, rule_errors
from backend.broadcast.stations.schemas import (
    EboardSettings,
    GroupIn,
    GroupList,
    GroupOut,
    GroupPatch,
    StationIn,
    StationList,
    StationOut,
    StationPatch,
    StationRules,
)
from backend.broadcast.tables import ScheduleVersion, Station, StationGroup
from backend.core.accounts.permissions import Actor, Grant, Permission, within
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.core.outbox import services as outbox
from backend.lib.db import json_column
from backend.lib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.runtime import Runtime

READERS = (Permission.NOTICE_READ, Permission.SCHEDULE_EDIT, Permission.STATION_MANAGE)


def read_grant(actor: Actor, path: str) -> Grant:
    """Any broadcast-related right over the station's commune lets one read it."""
    holders = [g for p in READERS for g in actor.grants_with(p)]
    if not holders:
        raise Forbidden(details={"permission": Permission.NOTICE_READ.value})
    for permission in READERS:
        grant = actor.grant_for(permission, path)
        if grant is not None:
            return grant
    raise NotFound("station")


def stale(field: str, current: int) -> Conflict:
    """Someone saved a newer version first; the client reloads and edits that one."""
    return Conflict("stale_version", message_key="error.stale_row", current=current, details={field: current})


def rules_of(row: dict[str, Any]) -> StationRules:
    return msgspec.convert(json_column(row["rules"], {}), StationRules)


def eboard_of(row: dict[str, Any]) -> EboardSettings:
    return msgspec.convert(json_column(row["eboard"], {}), EboardSettings)


def _check_rules(rules: StationRules) -> None:
    errors = rule_errors(rules)
    if errors:
        raise ValidationFailed(errors)


async def load_station(rt: Runtime, station_id: uuid.UUID) -> dict[str, Any]:
    row = await Station.select().where(Station.id == station_id).first()
    if row is None:
        raise NotFound("station", details={"id": str(station_id)})
    return row


async def _default_group_id(station_id: uuid.UUID) -> uuid.UUID | None:
    row = await (
        StationGroup.select(StationGroup.id)
        .where((StationGroup.station_id == station_id) & (StationGroup.is_default == True))  # noqa: E712
        .first()
    )
    return row["id"] if row else None


async def station_out(rt: Runtime, row: dict[str, Any]) -> StationOut:
    rules = rules_of(row)
    return StationOut(
        id=row["id"],
        area_code=row["area_code"],
        area_path=row["area_path"],
        name=row["name"],
        setting=row["setting"],
        rules=rules,
        max_minutes=max_minutes(rules, row["setting"]),
        rules_version=row["rules_version"],
        row_version=row["row_version"],
        default_group_id=await _default_group_id(row["id"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def default_sessions(rules: StationRules) -> list[dict[str, Any]]:
    """A first week schedule: one session per window on every allowed day, for every group."""
    return [
        {"id": f"d{day}w{i}", "day": day, "start": w.start, "end": w.end, "group_ids": [], "relays": []}
        for day in range(7)
        if day_allowed(rules, day)
        for i, w in enumerate(rules.windows)
    ]


async def create_station(rt: Runtime, actor: Actor, data: StationIn) -> StationOut:
    area = await Area.select().where(Area.code == data.area_code).first()
    if area is None:
        raise ValidationFailed([{"field": "area_code", "reason": f"unknown area code {data.area_code}"}])
    grant = actor.require(Permission.STATION_MANAGE, [area["path"]])
    if area["level"] != "commune":
        raise ValidationFailed([{"field": "area_code", "reason": "a station belongs to a commune"}])
    rules = data.rules or StationRules()
    _check_rules(rules)
    await _check_neighbours(rules, data.area_code)
    now = rt.clock.now()
    station_id, group_id = uuid.uuid4(), uuid.uuid4()
    name = nfc((data.name or f"Đài truyền thanh {area['name']}").strip())
    async with rt.db.transaction():
        if await Station.exists().where(Station.area_code == data.area_code):
            raise Conflict(
                "duplicate",
                message_key="error.duplicate",
                what="station",
                details={"area_code": data.area_code},
            )
        await Station.insert(
            Station(
                id=station_id,
                area_code=data.area_code,
                area_path=area["path"],
                name=name,
                setting=data.setting,
                rules=msgspec.to_builtins(rules),
                rules_version=1,
                row_version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await StationGroup.insert(
            StationGroup(
                id=group_id,
                station_id=station_id,
                name=f"Toàn {area['name']}",
                area_codes=[data.area_code],
                is_default=True,
                near_border=False,
                eboard=msgspec.to_builtins(EboardSettings()),
                row_version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await ScheduleVersion.insert(
            ScheduleVersion(
                station_id=station_id,
                version=1,
                sessions=default_sessions(rules),
                note="Lịch mặc định theo khung giờ của đài",
                created_by=actor.account_id,
                created_at=now,
            )
        )
        await audit.record(
            rt,
            actor,
            "station.create",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={"area_code": data.area_code, "setting": data.setting},
        )
        # The first week schedule reaches officials' phones like any later version.
        await record_change(
            rt,
            table="schedule",
            row_id=str(station_id),
            op="upsert",
            area_paths=[area["path"]],
            actor_id=actor.account_id,
        )
    return await station_out(rt, await load_station(rt, station_id))


async def _check_neighbours(rules: StationRules, own_code: str) -> None:
    codes = sorted(set(rules.neighbours))
    if own_code in codes:
        raise ValidationFailed(
            [{"field": "rules.neighbours", "reason": "a station is not its own neighbour"}]
        )
    if not codes:
        return
    rows = await Area.select(Area.code, Area.level).where(Area.code.is_in(codes))
    found = {r["code"]: r["level"] for r in rows}
    errors = [
        {"field": "rules.neighbours", "reason": f"{code} is not a commune"}
        for code in codes
        if found.get(code) != "commune"
    ]
    if errors:
        raise ValidationFailed(errors)


async def get_station(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> StationOut:
    row = await load_station(rt, station_id)
    read_grant(actor, row["area_path"])
    return await station_out(rt, row)


async def list_stations(rt: Runtime, actor: Actor, area: str | None) -> StationList:
    scopes = sorted({g.area_path for p in READERS for g in actor.grants_with(p)})
    if not scopes:
        raise Forbidden(details={"permission": Permission.NOTICE_READ.value})
    query = Station.select().order_by(Station.area_code)
    if area is not None:
        row = await Area.select(Area.path).where(Area.code == area).first()
        if row is None:
            raise NotFound("area", details={"code": area})
        query = query.where(Station.area_path.like(f"{row['path']}%"))
    rows = await query
    visible = [r for r in rows if any(within(r["area_path"], s) for s in scopes)]
    return StationList(items=[await station_out(rt, r) for r in visible])


async def edit_station(rt: Runtime, actor: Actor, station_id: uuid.UUID, patch: StationPatch) -> StationOut:
    row = await load_station(rt, station_id)
    read_grant(actor, row["area_path"])
    grant = actor.require(Permission.STATION_MANAGE, [row["area_path"]])
    values: dict[Any, Any] = {}
    changed: list[str] = []
    if patch.name is not None:
        values[Station.name] = nfc(patch.name.strip())
        changed.append("name")
    if patch.setting is not None:
        values[Station.setting] = patch.setting
        changed.append("setting")
    if patch.rules is not None:
        _check_rules(patch.rules)
        await _check_neighbours(patch.rules, row["area_code"])
        values[Station.rules] = msgspec.to_builtins(patch.rules)
        changed.append("rules")
    if "rules" in changed or "setting" in changed:
        values[Station.rules_version] = Station.rules_version + 1
    async with rt.db.transaction():
        updated = await (
            Station.update(
                {**values, Station.row_version: Station.row_version + 1, Station.updated_at: rt.clock.now()}
            )
            .where((Station.id == station_id) & (Station.row_version == patch.row_version))
            .returning(Station.id)
        )
        if not updated:
            raise stale("row_version", (await load_station(rt, station_id))["row_version"])
        await audit.record(
            rt,
            actor,
            "station.edit",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={
                "fields": changed,
                "rules_before": json_column(row["rules"], {}) if "rules" in changed else None,
            },
        )
        await station_changed(rt, station_id, "rules")
    return await station_out(rt, await load_station(rt, station_id))


async def station_changed(rt: Runtime, station_id: uuid.UUID, why: str) -> None:
    """Ask the workers to rebuild the station's manifests (in the caller's transaction)."""
    payload = {"station_id": str(station_id), "why": why}
    for channel in ("mqtt", "eboard"):
        await outbox.enqueue(
            rt, channel=channel, event="station_changed", aggregate_id=str(station_id), payload=payload
        )


# --- groups -----------------------------------------------------------------------------------------


def group_out(row: dict[str, Any]) -> GroupOut:
    return GroupOut(
        id=row["id"],
        station_id=row["station_id"],
        name=row["name"],
        area_codes=list(json_column(row["area_codes"], [])),
        is_default=bool(row["is_default"]),
        near_border=bool(row["near_border"]),
        eboard=eboard_of(row),
        row_version=row["row_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _group_areas(station: dict[str, Any], codes: list[str]) -> list[str]:
    wanted = sorted(set(codes))
    rows = await Area.select(Area.code, Area.path).where(Area.code.is_in(wanted))
    found = {r["code"]: r["path"] for r in rows}
    errors = [{"field": "area_codes", "reason": f"unknown area code {c}"} for c in wanted if c not in found]
    errors += [
        {"field": "area_codes", "reason": f"{c} is outside the station's commune {station['area_code']}"}
        for c in wanted
        if c in found and not within(found[c], station["area_path"])
    ]
    if errors:
        raise ValidationFailed(errors)
    return wanted


async def list_groups(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> GroupList:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    rows = await (
        StationGroup.select()
        .where(StationGroup.station_id == station_id)
        .order_by(StationGroup.is_default, ascending=False)
        .order_by(StationGroup.name)
    )
    return GroupList(items=[group_out(r) for r in rows])


async def create_group(rt: Runtime, actor: Actor, station_id: uuid.UUID, data: GroupIn) -> GroupOut:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    grant = actor.require(Permission.STATION_MANAGE, [station["area_path"]])
    codes = await _group_areas(station, data.area_codes)
    now = rt.clock.now()
    group_id = uuid.uuid4()
    async with rt.db.transaction():
        await StationGroup.insert(
            StationGroup(
                id=group_id,
                station_id=station_id,
                name=nfc(data.name.strip()),
                area_codes=codes,
                is_default=False,
                near_border=data.near_border,
                eboard=msgspec.to_builtins(data.eboard or EboardSettings()),
                row_version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await audit.record(
            rt,
            actor,
            "station.group_create",
            target_type="station_group",
            target_id=str(group_id),
            grant=grant,
            details={"station_id": str(station_id), "area_codes": codes},
        )
        await station_changed(rt, station_id, "groups")
    return group_out(await _load_group(group_id))


async def _load_group(group_id: uuid.UUID) -> dict[str, Any]:
    row = await StationGroup.select().where(StationGroup.id == group_id).first()
    if row is None:
        raise NotFound("station_group", details={"id": str(group_id)})
    return row


async def edit_group(rt: Runtime, actor: Actor, group_id: uuid.UUID, patch: GroupPatch) -> GroupOut:
    row = await _load_group(group_id)
    station = await load_station(rt, row["station_id"])
    read_grant(actor, station["area_path"])
    grant = actor.require(Permission.STATION_MANAGE, [station["area_path"]])
    values: dict[Any, Any] = {}
    if patch.name is not None:
        values[StationGroup.name] = nfc(patch.name.strip())
    if patch.area_codes is not None:
        if row["is_default"] and sorted(set(patch.area_codes)) != [station["area_code"]]:
            raise ValidationFailed(
                [{"field": "area_codes", "reason": "the default group always covers the whole commune"}]
            )
        values[StationGroup.area_codes] = await _group_areas(station, patch.area_codes)
    if patch.near_border is not None:
        values[StationGroup.near_border] = patch.near_border
    if patch.eboard is not None:
        values[StationGroup.eboard] = msgspec.to_builtins(patch.eboard)
    async with rt.db.transaction():
        updated = await (
            StationGroup.update(
                {
                    **values,
                    StationGroup.row_version: StationGroup.row_version + 1,
                    StationGroup.updated_at: rt.clock.now(),
                }
            )
            .where((StationGroup.id == group_id) & (StationGroup.row_version == patch.row_version))
            .returning(StationGroup.id)
        )
        if not updated:
            raise stale("row_version", (await _load_group(group_id))["row_version"])
        await audit.record(
            rt,
            actor,
            "station.group_edit",
            target_type="station_group",
            target_id=str(group_id),
            grant=grant,
            details={"fields": sorted(c._meta.name for c in values)},
        )
        await station_changed(rt, station["id"], "groups")
    return group_out(await _load_group(group_id))


async def delete_group(rt: Runtime, actor: Actor, group_id: uuid.UUID) -> None:
    row = await _load_group(group_id)
    station = await load_station(rt, row["station_id"])
    read_grant(actor, station["area_path"])
    grant = actor.require(Permission.STATION_MANAGE, [station["area_path"]])
    if row["is_default"]:
        raise Conflict("default_group", message_key="error.default_group")
    async with rt.db.transaction():
        await StationGroup.delete().where(StationGroup.id == group_id)
        await audit.record(
            rt,
            actor,
            "station.group_delete",
            target_type="station_group",
            target_id=str(group_id),
            grant=grant,
            details={"station_id": str(station["id"]), "name": row["name"]},
        )
        await station_changed(rt, station["id"], "groups")


async def groups_of(rt: Runtime, station_id: uuid.UUID) -> list[dict[str, Any]]:
    return await StationGroup.select().where(StationGroup.station_id == station_id).order_by(StationGroup.id)
