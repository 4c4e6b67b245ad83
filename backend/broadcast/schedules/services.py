"""Week schedules: read, save a new version (validated against the station's rules), list versions,
and the conflicts view (overlaps with neighbours' border clusters, sessions longer than the maximum,
items moved to a later session or not placed before they expire).

Saving refuses what breaks a rule outright (a day the station does not broadcast, a session
outside every window or inside quiet hours, one group in two sessions at once); a session longer
than the maximum is saved with a warning, because its programme is capped at the maximum anyway,
and stays visible in the conflicts view — as it does when rules change under an older schedule."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.broadcast.schedules.schemas import (
    ConflictsOut,
    Issue,
    MovedItem,
    NeighbourOverlap,
    OverlongSession,
    ScheduleIn,
    ScheduleOut,
    ScheduleVersionList,
    UnplacedItem,
    WeekSessionIn,
)
from backend.broadcast.stations import rules as R
from backend.broadcast.stations.services import load_station, read_grant, rules_of, stale, station_changed
from backend.broadcast.tables import CompiledPlan, ScheduleVersion, Station, StationGroup
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.db import json_column
from backend.lib.errors import NotFound, ValidationFailed
from backend.runtime import Runtime

HISTORY_LIMIT = 50
SCHEDULE_TABLE = "schedule"  # its name on officials' phones (backend/broadcast/synced.py)


async def current_row(station_id: uuid.UUID) -> dict[str, Any]:
    row = await (
        ScheduleVersion.select()
        .where(ScheduleVersion.station_id == station_id)
        .order_by(ScheduleVersion.version, ascending=False)
        .first()
    )
    if row is None:
        raise NotFound("schedule", details={"station_id": str(station_id)})
    return row


def sessions_of(row: dict[str, Any]) -> list[WeekSessionIn]:
    return msgspec.convert(json_column(row["sessions"], []), list[WeekSessionIn])


def _out(row: dict[str, Any], warnings: list[Issue]) -> ScheduleOut:
    return ScheduleOut(
        station_id=row["station_id"],
        version=row["version"],
        sessions=sessions_of(row),
        note=row["note"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        warnings=warnings,
    )


def check(
    sessions: list[WeekSessionIn], rules: R.StationRules, setting: str, group_ids: set[uuid.UUID]
) -> tuple[list[dict[str, str]], list[Issue]]:
    errors: list[dict[str, str]] = []
    warnings: list[Issue] = []
    limit = R.max_minutes(rules, setting)
    relays = {r.name for r in rules.relays}
    seen: set[str] = set()
    for i, s in enumerate(sessions):
        field = f"sessions[{i}]"
        start, end = R.minutes(s.start), R.minutes(s.end)
        if s.id in seen:
            errors.append({"field": f"{field}.id", "reason": f"session id {s.id} is used twice"})
        seen.add(s.id)
        if end <= start:
            errors.append({"field": field, "reason": "a session must end after it starts (same day)"})
            continue
        if not R.day_allowed(rules, s.day):
            errors.append({"field": f"{field}.day", "reason": "the station does not broadcast on this day"})
        if not R.inside((start, end), rules.windows):
            errors.append({"field": field, "reason": "outside the station's session windows"})
        if R.in_quiet_hours((start, end), rules.quiet_hours):
            errors.append({"field": field, "reason": "inside quiet hours"})
        unknown = [str(g) for g in s.group_ids if g not in group_ids]
        if unknown:
            errors.append(
                {"field": f"{field}.group_ids", "reason": f"not groups of this station: {', '.join(unknown)}"}
            )
        missing = [r for r in s.relays if r not in relays]
        if missing:
            errors.append(
                {"field": f"{field}.relays", "reason": f"no relay named {', '.join(missing)} in the rules"}
            )
        if end - start > limit:
            warnings.append(
                Issue(
                    field=field, reason=f"{end - start} minutes; the programme is capped at {limit} minutes"
                )
            )
    for i, a in enumerate(sessions):
        for j in range(i + 1, len(sessions)):
            b = sessions[j]
            if a.day != b.day or not R.overlaps(
                (R.minutes(a.start), R.minutes(a.end)), (R.minutes(b.start), R.minutes(b.end))
            ):
                continue
            ga, gb = set(a.group_ids) or group_ids, set(b.group_ids) or group_ids
            if ga & gb:
                errors.append(
                    {"field": f"sessions[{j}]", "reason": f"overlaps session {a.id} for the same group"}
                )
    return errors, warnings


async def _group_ids(station_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await StationGroup.select(StationGroup.id).where(StationGroup.station_id == station_id)
    return {r["id"] for r in rows}


async def get_schedule(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> ScheduleOut:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    row = await current_row(station_id)
    _, warnings = check(sessions_of(row), rules_of(station), station["setting"], await _group_ids(station_id))
    return _out(row, warnings)


async def list_versions(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> ScheduleVersionList:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    rows = await (
        ScheduleVersion.select()
        .where(ScheduleVersion.station_id == station_id)
        .order_by(ScheduleVersion.version, ascending=False)
        .limit(HISTORY_LIMIT)
    )
    return ScheduleVersionList(items=[_out(r, []) for r in rows])


async def save_schedule(
    rt: Runtime,
    actor: Actor,
    station_id: uuid.UUID,
    data: ScheduleIn,
    details: dict[str, Any] | None = None,
) -> ScheduleOut:
    """Save a new version (the web console, or a phone's offline edit with ``details`` naming the
    device and mutation). Phones that hold the schedule learn of it from the change log."""
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    grant = actor.require(Permission.SCHEDULE_EDIT, [station["area_path"]])
    errors, warnings = check(
        data.sessions, rules_of(station), station["setting"], await _group_ids(station_id)
    )
    if errors:
        raise ValidationFailed(errors)
    async with rt.db.transaction():
        current = await current_row(station_id)
        if current["version"] != data.version:
            raise stale("version", current["version"])
        version = current["version"] + 1
        await ScheduleVersion.insert(
            ScheduleVersion(
                station_id=station_id,
                version=version,
                sessions=msgspec.to_builtins(data.sessions),
                note=data.note,
                created_by=actor.account_id,
                created_at=rt.clock.now(),
            )
        )
        await audit.record(
            rt,
            actor,
            "schedule.save",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={
                "version": version,
                "sessions": len(data.sessions),
                "note": data.note,
                **(details or {}),
            },
        )
        await record_change(
            rt,
            table=SCHEDULE_TABLE,
            row_id=str(station_id),
            op="upsert",
            area_paths=[station["area_path"]],
            actor_id=actor.account_id,
        )
        await station_changed(rt, station_id, "schedule")
    return _out(await current_row(station_id), warnings)


def _border_groups(groups: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Groups near the commune border; a station that marks none has only its default group, which
    covers the border too."""
    marked = {g["id"] for g in groups if g["near_border"]}
    return marked or {g["id"] for g in groups if g["is_default"]}


def _border_sessions(sessions: list[WeekSessionIn], groups: list[dict[str, Any]]) -> list[WeekSessionIn]:
    border = _border_groups(groups)
    return [s for s in sessions if not s.group_ids or border & set(s.group_ids)]


async def conflicts(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> ConflictsOut:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    rules = rules_of(station)
    row = await current_row(station_id)
    sessions = sessions_of(row)
    limit = R.max_minutes(rules, station["setting"])
    overlong = [
        OverlongSession(
            session_id=s.id, day=s.day, minutes=R.minutes(s.end) - R.minutes(s.start), max_minutes=limit
        )
        for s in sessions
        if R.minutes(s.end) - R.minutes(s.start) > limit
    ]
    own_groups = await StationGroup.select().where(StationGroup.station_id == station_id)
    mine = _border_sessions(sessions, own_groups)
    overlaps: list[NeighbourOverlap] = []
    for code in rules.neighbours:
        other = await Station.select(Station.id).where(Station.area_code == code).first()
        if other is None:
            continue
        other_groups = await StationGroup.select().where(StationGroup.station_id == other["id"])
        theirs = _border_sessions(sessions_of(await current_row(other["id"])), other_groups)
        for a in mine:
            for b in theirs:
                if a.day == b.day and R.overlaps(
                    (R.minutes(a.start), R.minutes(a.end)), (R.minutes(b.start), R.minutes(b.end))
                ):
                    overlaps.append(
                        NeighbourOverlap(
                            session_id=a.id,
                            day=a.day,
                            start=a.start,
                            end=a.end,
                            neighbour_area_code=code,
                            neighbour_station_id=other["id"],
                            neighbour_session_id=b.id,
                            neighbour_start=b.start,
                            neighbour_end=b.end,
                        )
                    )
    plan = await CompiledPlan.select().where(CompiledPlan.station_id == station_id).first()
    return ConflictsOut(
        station_id=station_id,
        schedule_version=row["version"],
        neighbour_overlaps=overlaps,
        overlong_sessions=overlong,
        moved=msgspec.convert(json_column(plan["moved"], []) if plan else [], list[MovedItem]),
        unplaced=msgspec.convert(json_column(plan["unplaced"], []) if plan else [], list[UnplacedItem]),
        compiled_at=plan["compiled_at"] if plan else None,
    )
