"""Writing and reading the broadcast log.

Devices' proof of play arrives through ``record_play`` (called by the devices stream for each
``proof`` message); officials add manual entries for clusters that report nothing (old FM/wired
clusters) or for a session they ran by hand. Both go into ``broadcast_play``, unique on
(device_id, report_id): a report sent twice, or a manual entry submitted twice by a phone that lost
the answer, is stored once."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from backend.broadcast.log.schemas import (
    RESULTS,
    LogOut,
    ManualEntryIn,
    ManualEntryOut,
    PlannedItem,
    PlayOut,
    PlayReport,
    SessionLog,
)
from backend.broadcast.stations.services import load_station, read_grant
from backend.broadcast.tables import Manifest, PlannedSession, PlayRecord, StationGroup
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.db import json_column
from backend.lib.errors import ValidationFailed
from backend.runtime import Runtime

MAX_LOG_DAYS = 62
MANUAL_PREFIX = "manual:"
LOG_TABLE = "broadcast_log"  # manual entries' name on officials' phones (backend/broadcast/synced.py)


def _session_of(item_id: str) -> uuid.UUID | None:
    """Audio manifest items are named ``<session id>/<n>``; other items name no session."""
    head = item_id.split("/", 1)[0]
    try:
        return uuid.UUID(head)
    except ValueError:
        return None


def _check_times(started_at: datetime, ended_at: datetime) -> None:
    errors = []
    for name, value in (("started_at", started_at), ("ended_at", ended_at)):
        if value.tzinfo is None:
            errors.append({"field": name, "reason": "needs a time zone offset"})
    if not errors and ended_at < started_at:
        errors.append({"field": "ended_at", "reason": "must not be before started_at"})
    if errors:
        raise ValidationFailed(errors)


async def _insert(rt: Runtime, record: PlayRecord) -> bool:
    rows = await (
        PlayRecord.insert(record)
        .on_conflict(target=(PlayRecord.device_id, PlayRecord.report_id), action="DO NOTHING")
        .returning(PlayRecord.id)
    )
    return bool(rows)


async def record_play(rt: Runtime, report: PlayReport) -> bool:
    """Store one proof of play; False when this (device, report) was stored before."""
    if report.result not in RESULTS:
        raise ValidationFailed([{"field": "result", "reason": f"one of {', '.join(RESULTS)}"}])
    _check_times(report.started_at, report.ended_at)
    station_id = None
    kind = ""
    if report.manifest_id is not None:
        manifest = await (
            Manifest.select(Manifest.kind, Manifest.station_id)
            .where(Manifest.id == report.manifest_id)
            .first()
        )
        if manifest is not None:
            kind, station_id = manifest["kind"], manifest["station_id"]
    if station_id is None and report.group_id is not None:
        group = (
            await StationGroup.select(StationGroup.station_id)
            .where(StationGroup.id == report.group_id)
            .first()
        )
        station_id = group["station_id"] if group else None
    return await _insert(
        rt,
        PlayRecord(
            station_id=station_id,
            group_id=report.group_id,
            device_id=report.device_id,
            report_id=report.report_id,
            source="device",
            manifest_id=report.manifest_id,
            manifest_kind=kind,
            session_id=_session_of(report.item_id),
            item_id=report.item_id,
            notice_id=report.notice_id,
            media_sha256=report.media_sha256,
            started_at=report.started_at,
            ended_at=report.ended_at,
            result=report.result,
            detail=report.detail[:1000],
            recorded_at=rt.clock.now(),
        ),
    )


async def played_devices(rt: Runtime, notice_id: uuid.UUID) -> set[str]:
    """Devices that reported the notice played (manual entries name no device)."""
    rows = await PlayRecord.select(PlayRecord.device_id).where(
        (PlayRecord.notice_id == notice_id)
        & (PlayRecord.result == "played")
        & (PlayRecord.source == "device")
    )
    return {r["device_id"] for r in rows}


async def broadcast_notices(rt: Runtime, notice_ids: list[uuid.UUID]) -> dict[str, set[uuid.UUID]]:
    """Which of ``notice_ids`` actually went out on loudspeakers (``mqtt``: an audio or emergency
    play, by a device or in an official's log) and on e-boards (``eboard``: a slide shown)."""
    out: dict[str, set[uuid.UUID]] = {"mqtt": set(), "eboard": set()}
    for i in range(0, len(notice_ids), 500):
        part = notice_ids[i : i + 500]
        rows = await PlayRecord.select(
            PlayRecord.notice_id, PlayRecord.manifest_kind, PlayRecord.source
        ).where(PlayRecord.notice_id.is_in(part) & (PlayRecord.result == "played"))
        for r in rows:
            channel = "eboard" if r["manifest_kind"] == "eboard" else "mqtt"
            out[channel].add(r["notice_id"])
    return out


def synced_id(client_id: str) -> str | None:
    """The id of a manual entry on officials' phones: its client id, when it is a UUID (every
    entry a phone makes); the rows of one entry share the report-id prefix ``<client id>:``."""
    try:
        return client_id if str(uuid.UUID(client_id)) == client_id else None
    except ValueError:
        return None


async def record_manual(
    rt: Runtime,
    actor: Actor,
    station_id: uuid.UUID,
    data: ManualEntryIn,
    details: dict[str, Any] | None = None,
) -> ManualEntryOut:
    """An official's log entry: one row per (cluster, notice) named, or one for the whole session.
    ``details`` name the device and mutation when the entry was made offline on a phone."""
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    grant = actor.require(Permission.BROADCAST_LOG, [station["area_path"]])
    _check_times(data.started_at, data.ended_at)
    if data.group_id is not None and not await StationGroup.exists().where(
        (StationGroup.id == data.group_id) & (StationGroup.station_id == station_id)
    ):
        raise ValidationFailed([{"field": "group_id", "reason": "not a group of this station"}])
    clusters = data.clusters or [""]
    notices: list[uuid.UUID | None] = list(data.notice_ids) or [None]
    now = rt.clock.now()
    recorded = 0
    async with rt.db.transaction():
        for cluster in clusters:
            for notice_id in notices:
                inserted = await _insert(
                    rt,
                    PlayRecord(
                        station_id=station_id,
                        group_id=data.group_id,
                        device_id=f"{MANUAL_PREFIX}{cluster}" if cluster else f"{MANUAL_PREFIX}{station_id}",
                        report_id=f"{data.client_id}:{cluster}:{notice_id or ''}"[:64],
                        source="manual",
                        manifest_id=None,
                        manifest_kind="audio",
                        session_id=data.session_id,
                        item_id="",
                        notice_id=notice_id,
                        media_sha256="",
                        started_at=data.started_at,
                        ended_at=data.ended_at,
                        result=data.result,
                        detail=data.detail,
                        recorded_by=actor.account_id,
                        recorded_at=now,
                    ),
                )
                recorded += int(inserted)
        if recorded:
            await audit.record(
                rt,
                actor,
                "broadcast.log_manual",
                target_type="station",
                target_id=str(station_id),
                grant=grant,
                details={
                    "client_id": data.client_id,
                    "result": data.result,
                    "rows": recorded,
                    **(details or {}),
                },
            )
            if synced_id(data.client_id):
                await record_change(
                    rt,
                    table=LOG_TABLE,
                    row_id=data.client_id,
                    op="upsert",
                    area_paths=[station["area_path"]],
                    actor_id=actor.account_id,
                )
    total = len(clusters) * len(notices)
    return ManualEntryOut(recorded=recorded, duplicates=total - recorded)


async def correct_manual(
    rt: Runtime,
    actor: Actor,
    station_id: uuid.UUID,
    client_id: str,
    values: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> None:
    """Correct the result or the note of one manual entry (all its rows), audited. Call inside a
    transaction; a phone's offline correction arrives here through sync."""
    station = await load_station(rt, station_id)
    grant = actor.require(Permission.BROADCAST_LOG, [station["area_path"]])
    changes: dict[Any, Any] = {}
    if "result" in values:
        if values["result"] not in RESULTS:
            raise ValidationFailed([{"field": "result", "reason": f"one of {', '.join(RESULTS)}"}])
        changes[PlayRecord.result] = values["result"]
    if "detail" in values:
        changes[PlayRecord.detail] = str(values["detail"])[:1000]
    if not changes:
        return
    await PlayRecord.update(changes).where(
        (PlayRecord.station_id == station_id)
        & (PlayRecord.source == "manual")
        & PlayRecord.report_id.like(f"{client_id}:%")  # a UUID: no LIKE wildcards in it
    )
    await audit.record(
        rt,
        actor,
        "broadcast.log_correct",
        target_type="station",
        target_id=str(station_id),
        grant=grant,
        details={"client_id": client_id, "fields": sorted(values), **(details or {})},
    )
    await record_change(
        rt,
        table=LOG_TABLE,
        row_id=client_id,
        op="upsert",
        area_paths=[station["area_path"]],
        actor_id=actor.account_id,
    )


def _play_out(r: dict[str, Any]) -> PlayOut:
    return PlayOut(
        device_id=r["device_id"],
        source=r["source"],
        item_id=r["item_id"],
        notice_id=r["notice_id"],
        started_at=r["started_at"],
        ended_at=r["ended_at"],
        result=r["result"],
        detail=r["detail"],
    )


async def station_log(
    rt: Runtime, actor: Actor, station_id: uuid.UUID, start: datetime, end: datetime
) -> LogOut:
    """Planned versus played for each session of [start, end), per group and cluster."""
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    if end <= start or (end - start).days > MAX_LOG_DAYS:
        raise ValidationFailed(
            [{"field": "end", "reason": f"after start, at most {MAX_LOG_DAYS} days later"}]
        )
    groups = {
        r["id"]: r["name"]
        for r in await StationGroup.select(StationGroup.id, StationGroup.name).where(
            StationGroup.station_id == station_id
        )
    }
    sessions = await (
        PlannedSession.select()
        .where(
            (PlannedSession.station_id == station_id)
            & (PlannedSession.starts_at >= start)
            & (PlannedSession.starts_at < end)
        )
        .order_by(PlannedSession.starts_at)
    )
    plays = await (
        PlayRecord.select()
        .where(
            (PlayRecord.station_id == station_id)
            & (PlayRecord.started_at >= start)
            & (PlayRecord.started_at < end)
        )
        .order_by(PlayRecord.started_at)
    )
    by_session: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for p in plays:
        by_session[p["session_id"]].append(p)
    out = []
    for s in sessions:
        entries = json_column(s["entries"], [])
        planned = [
            PlannedItem(
                item_id=e["id"],
                kind=e["kind"],
                title=e.get("title", ""),
                notice_id=uuid.UUID(e["notice_id"]) if e.get("notice_id") else None,
                offset_ms=e["offset_ms"],
                duration_ms=e["duration_ms"],
            )
            for e in entries
        ]
        session_plays = by_session.pop(s["id"], [])
        played_items = {p["item_id"] for p in session_plays if p["result"] == "played" and p["item_id"]}
        whole = any(p["result"] == "played" and not p["item_id"] for p in session_plays)
        out.append(
            SessionLog(
                session_id=s["id"],
                group_id=s["group_id"],
                group_name=groups.get(s["group_id"], ""),
                starts_at=s["starts_at"],
                ends_at=s["ends_at"],
                planned=planned,
                plays=[_play_out(p) for p in session_plays],
                clusters_played=sorted({p["device_id"] for p in session_plays if p["result"] == "played"}),
                items_played=len(planned) if whole else len(played_items & {p.item_id for p in planned}),
                items_planned=len(planned),
            )
        )
    unplanned = [_play_out(p) for rows in by_session.values() for p in rows]
    return LogOut(station_id=station_id, start=start, end=end, sessions=out, unplanned=unplanned)
