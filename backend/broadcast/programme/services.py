"""A station's programme choices: notices chosen (and the order of priority notices), officials'
recordings, answers to citizen feedback marked for radio. Every change is audited and asks the
worker to recompile the station."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from backend.adapters.audio import AudioRejected, decode
from backend.broadcast.audio import render
from backend.broadcast.programme import blobs
from backend.broadcast.programme.schemas import ItemIn, ItemList, ItemOut, OrderIn, RecordingOut
from backend.broadcast.stations.services import load_station, read_grant, station_changed
from backend.broadcast.tables import ProgrammeItem, Station, StationGroup
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.notices.tables import Notice
from backend.lib.db import json_column
from backend.lib.errors import DomainError, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.runtime import Runtime

MAX_RECORDING_SECONDS = 20 * 60


class AudioInputRejected(DomainError):
    status_code = 422
    default_code = "bad_audio"
    default_key = "error.bad_audio"


def _out(row: dict[str, Any]) -> ItemOut:
    return ItemOut(
        id=row["id"],
        kind=row["kind"],
        notice_thread_id=row["notice_thread_id"],
        media_sha256=row["media_sha256"],
        title=row["title"],
        duration_ms=row["duration_ms"],
        position=row["position"],
        plays=row["plays"],
        group_ids=[uuid.UUID(g) for g in json_column(row["group_ids"], [])],
        eboard_priority=row["eboard_priority"],
        daypart=row["daypart"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
    )


async def active_items(station_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        ProgrammeItem.select()
        .where((ProgrammeItem.station_id == station_id) & (ProgrammeItem.status == "active"))
        .order_by(ProgrammeItem.position)
        .order_by(ProgrammeItem.created_at)
    )


async def list_items(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> ItemList:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    return ItemList(items=[_out(r) for r in await active_items(station_id)])


async def _editor(rt: Runtime, actor: Actor, station_id: uuid.UUID) -> tuple[dict[str, Any], Any]:
    station = await load_station(rt, station_id)
    read_grant(actor, station["area_path"])
    return station, actor.require(Permission.SCHEDULE_EDIT, [station["area_path"]])


async def add_item(rt: Runtime, actor: Actor, station_id: uuid.UUID, data: ItemIn) -> ItemOut:
    _, grant = await _editor(rt, actor, station_id)
    errors = []
    duration = 0
    title = nfc(data.title.strip())
    if data.kind in ("notice", "answer"):
        if data.notice_thread_id is None:
            errors.append({"field": "notice_thread_id", "reason": "required for a notice or an answer"})
        elif not await Notice.exists().where(Notice.thread_id == data.notice_thread_id):
            errors.append({"field": "notice_thread_id", "reason": "no such notice"})
    else:
        if data.media_sha256 is None:
            errors.append({"field": "media_sha256", "reason": "required for a recording"})
        else:
            clip = await blobs.recording_clip(rt, data.media_sha256)
            if clip is None:
                errors.append({"field": "media_sha256", "reason": "no accepted recording with this sha256"})
            else:
                duration = clip.duration_ms
        if not title:
            errors.append({"field": "title", "reason": "a recording needs a title"})
    groups = {
        r["id"]
        for r in await StationGroup.select(StationGroup.id).where(StationGroup.station_id == station_id)
    }
    if any(g not in groups for g in data.group_ids):
        errors.append({"field": "group_ids", "reason": "not groups of this station"})
    if errors:
        raise ValidationFailed(errors)
    now = rt.clock.now()
    item_id = uuid.uuid4()
    async with rt.db.transaction():
        last = await (
            ProgrammeItem.select(ProgrammeItem.position)
            .where(ProgrammeItem.station_id == station_id)
            .order_by(ProgrammeItem.position, ascending=False)
            .first()
        )
        await ProgrammeItem.insert(
            ProgrammeItem(
                id=item_id,
                station_id=station_id,
                kind=data.kind,
                notice_thread_id=data.notice_thread_id,
                media_sha256=data.media_sha256 or "",
                title=title,
                duration_ms=duration,
                position=(last["position"] + 1) if last else 1,
                plays=data.plays,
                group_ids=[str(g) for g in data.group_ids],
                eboard_priority=data.eboard_priority,
                daypart=data.daypart,
                valid_from=data.valid_from,
                valid_until=data.valid_until,
                status="active",
                created_by=actor.account_id,
                created_at=now,
                updated_at=now,
            )
        )
        await audit.record(
            rt,
            actor,
            "programme.add",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={"item": str(item_id), "kind": data.kind, "thread": str(data.notice_thread_id or "")},
        )
        await station_changed(rt, station_id, "programme")
    row = await ProgrammeItem.select().where(ProgrammeItem.id == item_id).first()
    return _out(row)


async def remove_item(rt: Runtime, actor: Actor, station_id: uuid.UUID, item_id: uuid.UUID) -> None:
    _, grant = await _editor(rt, actor, station_id)
    async with rt.db.transaction():
        rows = await (
            ProgrammeItem.update({ProgrammeItem.status: "removed", ProgrammeItem.updated_at: rt.clock.now()})
            .where(
                (ProgrammeItem.id == item_id)
                & (ProgrammeItem.station_id == station_id)
                & (ProgrammeItem.status == "active")
            )
            .returning(ProgrammeItem.id)
        )
        if not rows:
            raise NotFound("programme_item", details={"id": str(item_id)})
        await audit.record(
            rt,
            actor,
            "programme.remove",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={"item": str(item_id)},
        )
        await station_changed(rt, station_id, "programme")


async def set_order(rt: Runtime, actor: Actor, station_id: uuid.UUID, data: OrderIn) -> ItemList:
    """Order priority notices: listed threads get positions 1..n (an item is created for a thread
    the commune had not chosen explicitly; priority notices play whether chosen or not)."""
    _, grant = await _editor(rt, actor, station_id)
    threads = list(dict.fromkeys(data.thread_ids))
    known = {
        r["thread_id"]
        for r in await Notice.select(Notice.thread_id).where(
            Notice.thread_id.is_in(threads or [uuid.uuid4()])
        )
    }
    missing = [str(t) for t in threads if t not in known]
    if missing:
        raise ValidationFailed([{"field": "thread_ids", "reason": f"no such notice {m}"} for m in missing])
    now = rt.clock.now()
    async with rt.db.transaction():
        existing = {
            r["notice_thread_id"]: r["id"]
            for r in await active_items(station_id)
            if r["kind"] == "notice" and r["notice_thread_id"] is not None
        }
        offset = len(threads) + 1
        await ProgrammeItem.update({ProgrammeItem.position: ProgrammeItem.position + offset + 1000}).where(
            (ProgrammeItem.station_id == station_id) & (ProgrammeItem.status == "active")
        )
        for position, thread in enumerate(threads, start=1):
            if thread in existing:
                await ProgrammeItem.update(
                    {ProgrammeItem.position: position, ProgrammeItem.updated_at: now}
                ).where(ProgrammeItem.id == existing[thread])
            else:
                await ProgrammeItem.insert(
                    ProgrammeItem(
                        id=uuid.uuid4(),
                        station_id=station_id,
                        kind="notice",
                        notice_thread_id=thread,
                        position=position,
                        plays=1,
                        group_ids=[],
                        status="active",
                        created_by=actor.account_id,
                        created_at=now,
                        updated_at=now,
                    )
                )
        await audit.record(
            rt,
            actor,
            "programme.order",
            target_type="station",
            target_id=str(station_id),
            grant=grant,
            details={"threads": [str(t) for t in threads]},
        )
        await station_changed(rt, station_id, "programme")
    return ItemList(items=[_out(r) for r in await active_items(station_id)])


async def upload_recording(rt: Runtime, actor: Actor, station_id: uuid.UUID, data: bytes) -> RecordingOut:
    """Accept an official's recording: judged by decoding it, not by its name or declared type."""
    await _editor(rt, actor, station_id)
    try:
        decoded = await decode(data, MAX_RECORDING_SECONDS)
    except AudioRejected as exc:
        raise AudioInputRejected(
            exc.reason,
            message_key=f"error.audio_{exc.reason}",
            minutes=MAX_RECORDING_SECONDS // 60,
            details={"reason": exc.reason, "detail": exc.detail},
        ) from exc
    sha = hashlib.sha256(data).hexdigest()
    clip = await render.store_recording(rt, sha, decoded.pcm)
    return RecordingOut(sha256=sha, size=len(data), duration_ms=clip.duration_ms)


async def mark_answer_for_radio(rt: Runtime, actor: Actor, notice_id: uuid.UUID, area_code: str) -> bool:
    """Feedback handling marks a notice drafted from a public answer for the commune's radio: it
    plays in the answers part of the programme once published. False when the commune has no
    station."""
    station = await Station.select(Station.id).where(Station.area_code == area_code).first()
    notice = await Notice.select(Notice.thread_id).where(Notice.id == notice_id).first()
    if station is None or notice is None:
        return False
    now = rt.clock.now()
    async with rt.db.transaction():
        await ProgrammeItem.insert(
            ProgrammeItem(
                id=uuid.uuid4(),
                station_id=station["id"],
                kind="answer",
                notice_thread_id=notice["thread_id"],
                position=0,
                plays=1,
                group_ids=[],
                status="active",
                source_ref=str(notice_id),
                created_by=actor.account_id,
                created_at=now,
                updated_at=now,
            )
        )
        await station_changed(rt, station["id"], "answer")
    return True
