"""Compile a station's coming week and issue its groups' audio manifests — the worker's job.

Steps: speak every notice that may play (cached per text, voice and speed), compile the sessions
under the station's rules (``compile.py``), assemble each session's audio (cached per content:
identical sessions share one file), keep the planned sessions for the broadcast log, keep what was
moved or left unplaced for the conflicts view and tell the commune's officials (``notify.py``), then
issue one signed manifest per group and publish it retained on the group's topic. Rebuilding with nothing changed issues nothing new."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.adapters.mqtt import BusUnavailable
from backend.broadcast.audio import render
from backend.broadcast.audio.media import MediaRef
from backend.broadcast.manifests import store
from backend.broadcast.programme import blobs, notify
from backend.broadcast.programme.compile import (
    Candidate,
    Plan,
    SessionPlan,
    WeekSession,
    compile_plan,
    slots_for,
)
from backend.broadcast.programme.services import active_items
from backend.broadcast.programme.sources import NoticeSource, notices_for
from backend.broadcast.schedules.services import current_row, sessions_of
from backend.broadcast.stations.rules import VN_TZ, max_minutes
from backend.broadcast.stations.services import groups_of, load_station, rules_of
from backend.broadcast.tables import CompiledPlan, PlannedSession
from backend.core.outbox.services import RetryLater
from backend.devices.topics import Topics
from backend.runtime import Runtime

log = logging.getLogger(__name__)

HORIZON_DAYS = 7
PRIORITY_RANK_BASE = 10_000


def spoken_text(n: NoticeSource) -> str:
    return f"{n.title}. {n.body}"


def media_url(rt: Runtime, sha256: str) -> str:
    return f"{rt.settings.effective_public_url}/api/v1/broadcast/media/{sha256}"


def media_item(rt: Runtime, ref: MediaRef) -> dict[str, Any]:
    return {
        "id": ref.sha256,
        "url": media_url(rt, ref.sha256),
        "sha256": ref.sha256,
        "size": ref.size,
        "mime": ref.mime,
        "duration_ms": ref.duration_ms,
    }


def notice_ref(n: NoticeSource) -> dict[str, Any]:
    return {"id": str(n.id), "thread_id": str(n.thread_id), "version": n.version}


@dataclass
class StationInputs:
    station: dict[str, Any]
    groups: list[dict[str, Any]]
    candidates: list[Candidate]
    clips: dict[str, render.Clip]
    notices: dict[str, NoticeSource]
    relays: dict[str, tuple[str, int]]


async def gather(rt: Runtime, station_id: uuid.UUID) -> StationInputs:
    from backend.core.areas.tables import Area
    from backend.lib.db import json_column

    station = await load_station(rt, station_id)
    rules = rules_of(station)
    groups = await groups_of(rt, station_id)
    codes = sorted({c for g in groups for c in json_column(g["area_codes"], [])})
    paths = {
        r["code"]: r["path"]
        for r in await Area.select(Area.code, Area.path).where(Area.code.is_in(codes or ["-"]))
    }
    group_paths = {
        g["id"]: [paths[c] for c in json_column(g["area_codes"], []) if c in paths] for g in groups
    }
    items = await active_items(station_id)
    by_thread: dict[Any, dict[str, Any]] = {}
    for item in items:
        if item["notice_thread_id"] is not None:
            by_thread.setdefault(item["notice_thread_id"], item)
    clips: dict[str, render.Clip] = {}
    notices: dict[str, NoticeSource] = {}
    candidates: list[Candidate] = []
    for n in await notices_for(rt, station["area_path"]):
        if n.priority == "emergency" or n.msg_type == "cancel":
            continue
        item = by_thread.get(n.thread_id)
        if n.priority == "normal" and item is None:
            continue  # the commune decides which normal notices to broadcast
        kind = "answer" if item is not None and item["kind"] == "answer" else n.priority
        reach = frozenset(g for g, p in group_paths.items() if n.reaches(p))
        if not reach:
            continue
        wanted = {uuid.UUID(g) for g in json_column(item["group_ids"], [])} if item else set()
        clip = await render.speech(rt, spoken_text(n), rules.voice, rules.speed)
        key = f"n:{n.thread_id}"
        clips[key] = clip
        notices[key] = n
        rank = item["position"] if item is not None and item["position"] > 0 else PRIORITY_RANK_BASE
        candidates.append(
            Candidate(
                key=key,
                kind=kind,
                title=n.title,
                duration_ms=clip.duration_ms,
                rank=rank * 1_000_000 + int((n.published_at or rt.clock.now()).timestamp()) % 1_000_000,
                plays=item["plays"] if item is not None else 1,
                valid_from=max(filter(None, [n.valid_from, n.published_at]), default=None),
                valid_until=n.valid_until,
                group_ids=reach & wanted if wanted else reach,
                notice_id=str(n.id),
                thread_id=str(n.thread_id),
                version=n.version,
                media_key=clip.key,
            )
        )
    for item in items:
        if item["kind"] != "recording":
            continue
        clip = await blobs.recording_clip(rt, item["media_sha256"])
        if clip is None:
            continue
        key = f"r:{item['id']}"
        clips[key] = clip
        wanted = {uuid.UUID(g) for g in json_column(item["group_ids"], [])}
        candidates.append(
            Candidate(
                key=key,
                kind="recording",
                title=item["title"],
                duration_ms=clip.duration_ms,
                rank=item["position"],
                plays=item["plays"],
                valid_from=item["valid_from"],
                valid_until=item["valid_until"],
                group_ids=frozenset(wanted) if wanted else None,
                media_key=clip.key,
            )
        )
    relays = {r.name: (r.url, r.minutes * 60_000) for r in rules.relays}
    return StationInputs(station, groups, candidates, clips, notices, relays)


def _relay_candidates(inputs: StationInputs, week: list[WeekSession]) -> list[Candidate]:
    out = []
    for name, (url, duration) in inputs.relays.items():
        sessions = frozenset(s.id for s in week if name in s.relays)
        if sessions:
            out.append(
                Candidate(
                    key=f"relay:{name}",
                    kind="relay",
                    title=name,
                    duration_ms=duration,
                    rank=0,
                    plays=10_000,
                    relay_url=url,
                    schedule_sessions=sessions,
                )
            )
    return out


async def compile_station(
    rt: Runtime, station_id: uuid.UUID
) -> tuple[StationInputs, Plan, list[WeekSession], render.Clip, render.Clip, int]:
    inputs = await gather(rt, station_id)
    station = inputs.station
    rules = rules_of(station)
    schedule = await current_row(station_id)
    week = [
        WeekSession(
            id=s.id, day=s.day, start=s.start, end=s.end, group_ids=tuple(s.group_ids), relays=tuple(s.relays)
        )
        for s in sessions_of(schedule)
    ]
    intro = await render.speech(
        rt,
        rules.intro_text or f"Đây là {station['name']}. Mời bà con nghe chương trình phát thanh.",
        rules.voice,
        rules.speed,
    )
    outro = await render.speech(
        rt,
        rules.outro_text or "Chương trình phát thanh đến đây là kết thúc. Cảm ơn bà con đã lắng nghe.",
        rules.voice,
        rules.speed,
    )
    now = rt.clock.now()
    slots = slots_for(
        week,
        [g["id"] for g in inputs.groups],
        now.astimezone(VN_TZ).date(),
        HORIZON_DAYS,
        max_minutes(rules, station["setting"]),
        not_before=now,
    )
    chime = render.chime_ms()
    plan = compile_plan(
        slots,
        inputs.candidates + _relay_candidates(inputs, week),
        intro_ms=chime + rules.pause_ms + intro.duration_ms,
        outro_ms=outro.duration_ms + rules.pause_ms + chime,
        pause_ms=rules.pause_ms,
    )
    return inputs, plan, week, intro, outro, schedule["version"]


async def _session_audio(
    rt: Runtime,
    session: SessionPlan,
    inputs: StationInputs,
    intro: render.Clip,
    outro: render.Clip,
    pause_ms: int,
) -> tuple[list[dict[str, Any]], list[MediaRef]]:
    """The session as segments: assembled audio blocks, split where a relay plays live."""
    segments: list[dict[str, Any]] = []
    refs: list[MediaRef] = []
    block: list[render.Clip | str] = []
    block_start = 0

    async def flush(end_offset: int) -> None:
        nonlocal block
        if not block:
            return
        ref = await render.programme(rt, block, pause_ms)
        refs.append(ref)
        segments.append(
            {
                "kind": "audio",
                "media_id": ref.sha256,
                "offset_ms": block_start,
                "duration_ms": ref.duration_ms,
            }
        )
        block = []

    for placed in session.items:
        if placed.kind == "relay":
            await flush(placed.offset_ms)
            assert placed.candidate is not None
            segments.append(
                {
                    "kind": "relay",
                    "name": placed.title,
                    "url": placed.candidate.relay_url,
                    "offset_ms": placed.offset_ms,
                    "duration_ms": placed.duration_ms,
                }
            )
            continue
        if not block:
            block_start = placed.offset_ms
        if placed.kind == "intro":
            block += [render.CHIME, intro]
        elif placed.kind == "outro":
            block += [outro, render.CHIME]
        else:
            block.append(inputs.clips[placed.key])
    await flush(session.used_ms)
    return segments, refs


async def build_audio(rt: Runtime, station_id: uuid.UUID) -> list[store.Issued]:
    inputs, plan, _week, intro, outro, schedule_version = await compile_station(rt, station_id)
    rules = rules_of(inputs.station)
    now = rt.clock.now()
    horizon_end = now + timedelta(days=HORIZON_DAYS)
    per_group: dict[uuid.UUID, list[tuple[SessionPlan, list[dict[str, Any]]]]] = {
        g["id"]: [] for g in inputs.groups
    }
    media_by_group: dict[uuid.UUID, dict[str, MediaRef]] = {g["id"]: {} for g in inputs.groups}
    notices_by_group: dict[uuid.UUID, dict[str, NoticeSource]] = {g["id"]: {} for g in inputs.groups}
    sessions_rows = []
    for session in plan.sessions:
        if not session.items:
            continue
        segments, refs = await _session_audio(rt, session, inputs, intro, outro, rules.pause_ms)
        group = session.slot.group_id
        per_group[group].append((session, segments))
        for ref in refs:
            media_by_group[group][ref.sha256] = ref
        for placed in session.items:
            if placed.key in inputs.notices:
                notices_by_group[group][placed.key] = inputs.notices[placed.key]
        sessions_rows.append(session)
    async with rt.db.transaction():
        await PlannedSession.delete().where(
            (PlannedSession.station_id == station_id) & (PlannedSession.starts_at >= now)
        )
        for session in sessions_rows:
            await PlannedSession.insert(
                PlannedSession(
                    id=session.slot.id,
                    station_id=station_id,
                    group_id=session.slot.group_id,
                    starts_at=session.slot.starts_at,
                    ends_at=session.slot.ends_at,
                    schedule_version=schedule_version,
                    entries=_entries(session, inputs),
                    planned_ms=session.used_ms,
                    created_at=now,
                )
            ).on_conflict(target=(PlannedSession.group_id, PlannedSession.starts_at), action="DO NOTHING")
        await _save_plan(
            rt, station_id, plan, now, horizon_end, schedule_version, inputs.station["rules_version"]
        )
        await notify.tell_officials(rt, inputs.station, plan, inputs.notices)
    issued = []
    topics = Topics.for_settings(rt.settings)
    for group in inputs.groups:
        gid = group["id"]
        entries = [
            {
                "id": str(s.slot.id),
                "kind": "session",
                "starts_at": store.iso(s.slot.starts_at),
                "ends_at": store.iso(s.slot.ends_at),
                "duration_ms": max((g["offset_ms"] + g["duration_ms"] for g in segments), default=0),
                "segments": segments,
                "items": _entries(s, inputs),
            }
            for s, segments in per_group[gid]
        ]
        draft = store.Draft(
            kind="audio",
            scope=store.group_scope(gid, "audio"),
            station_id=station_id,
            group_id=gid,
            area_codes=[],
            entries=entries,
            media=[media_item(rt, r) for r in sorted(media_by_group[gid].values(), key=lambda r: r.sha256)],
            notices=sorted((notice_ref(n) for n in notices_by_group[gid].values()), key=lambda n: n["id"]),
            valid_from=now,
            valid_until=horizon_end,
        )
        issued.append(await publish_group(rt, draft, topics.group_manifest(str(gid), "audio")))
    return issued


def _entries(session: SessionPlan, inputs: StationInputs) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(session.items):
        n = inputs.notices.get(p.key)
        out.append(
            {
                "id": f"{session.slot.id}/{i}",
                "kind": p.kind,
                "title": p.title,
                "notice_id": str(n.id) if n else None,
                "offset_ms": p.offset_ms,
                "duration_ms": p.duration_ms,
            }
        )
    return out


async def _save_plan(
    rt: Runtime,
    station_id: uuid.UUID,
    plan: Plan,
    now: datetime,
    end: datetime,
    schedule_version: int,
    rules_version: int,
) -> None:
    moved = msgspec.to_builtins(
        [
            {"key": m.key, "title": m.title, "group_id": m.group_id, "wanted": m.wanted, "placed": m.placed}
            for m in plan.moved
        ]
    )
    unplaced = msgspec.to_builtins(
        [
            {
                "key": u.key,
                "title": u.title,
                "group_id": u.group_id,
                "reason": u.reason,
                "valid_until": u.valid_until,
            }
            for u in plan.unplaced
        ]
    )
    values = {
        CompiledPlan.compiled_at: now,
        CompiledPlan.horizon_start: now,
        CompiledPlan.horizon_end: end,
        CompiledPlan.schedule_version: schedule_version,
        CompiledPlan.rules_version: rules_version,
        CompiledPlan.moved: moved,
        CompiledPlan.unplaced: unplaced,
    }
    if await CompiledPlan.exists().where(CompiledPlan.station_id == station_id):
        await CompiledPlan.update(values).where(CompiledPlan.station_id == station_id)
    else:
        await CompiledPlan.insert(
            CompiledPlan(station_id=station_id, **{c._meta.name: v for c, v in values.items()})
        )


async def publish_group(rt: Runtime, draft: store.Draft, topic: str) -> store.Issued:
    """Issue (or find) the manifest and publish it retained, once."""
    issued = await store.issue(rt, draft)
    if not issued.published:
        try:
            await rt.bus.publish(topic, issued.envelope, qos=1, retain=True)
        except BusUnavailable as exc:
            raise RetryLater(f"broker unavailable: {exc}", 5) from exc
        await store.mark_published(rt, issued.id)
    return issued
