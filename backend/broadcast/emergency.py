"""Emergency override ("phát ngay"): a signed emergency manifest published once per target area.

Every device subscribes to the emergency topic of each area on its path, so one retained publish on
``areas/<code>/emergency/<thread>`` reaches every cluster and board below that area, whatever its
windows or quiet hours. The manifest tells devices to pre-empt what plays, play the audio ``repeat``
times ``interval_s`` apart (boards show the slide meanwhile) and revert by themselves at ``ends``.
Its ``notices`` name the notice version — the same one the CAP message of the publication names —
so devices acknowledge exactly that version. An update re-issues the thread's manifest with a
higher version; a withdrawal or cancellation issues a signed end manifest (``ended``), then clears
the retained message. An update that drops an area publishes its new version on the dropped area's
topic too, then clears it there: a device holding a version of the thread receives a newer signed
one that does not name any area on its path, and stops — the same rule as an ended manifest, with
nothing unsigned to trust."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from backend.adapters.mqtt import BusUnavailable
from backend.broadcast.audio import render
from backend.broadcast.manifests import store
from backend.broadcast.programme.build import media_item
from backend.broadcast.programme.sources import NoticeSource, to_source
from backend.broadcast.stations.services import rules_of
from backend.broadcast.tables import Emergency, Station
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import RetryLater
from backend.devices.topics import Topics
from backend.lib.db import json_column
from backend.runtime import Runtime

END_VALIDITY = timedelta(days=1)


async def _voice(targets: list[dict[str, Any]]) -> tuple[str, int]:
    """The commune's voice when every target lies in one commune; the default voice otherwise."""
    stations = await Station.select(Station.area_path, Station.rules)
    owners = {s["area_path"] for t in targets for s in stations if t["area_path"].startswith(s["area_path"])}
    if len(owners) == 1 and all(any(t["area_path"].startswith(o) for o in owners) for t in targets):
        path = owners.pop()
        rules = rules_of(next(s for s in stations if s["area_path"] == path))
        return rules.voice, rules.speed
    return "vi", 150


async def _publish(
    rt: Runtime, codes: list[str], thread_id: uuid.UUID, envelope: bytes, *, clear: bool
) -> None:
    topics = Topics.for_settings(rt.settings)
    try:
        for code in codes:
            topic = topics.area_emergency(code, str(thread_id))
            await rt.bus.publish(topic, envelope, qos=1, retain=True)
            if clear:
                await rt.bus.publish(topic, b"", qos=1, retain=True)
    except BusUnavailable as exc:
        raise RetryLater(f"broker unavailable: {exc}", 5) from exc


async def start(rt: Runtime, notice_id: uuid.UUID) -> store.Issued | None:
    row = await Notice.select().where(Notice.id == notice_id).first()
    if row is None:
        return None
    if row["msg_type"] == "cancel":
        return await end(rt, row["thread_id"], f"cancel:{notice_id}")
    targets = await NoticeTarget.select(NoticeTarget.area_code, NoticeTarget.area_path).where(
        NoticeTarget.notice == notice_id
    )
    notice: NoticeSource = to_source(row, [t["area_path"] for t in targets])
    voice, speed = await _voice(targets)
    clip = await render.speech(rt, f"Thông báo khẩn cấp. {notice.title}. {notice.body}", voice, speed)
    audio = await render.programme(rt, [render.CHIME, clip, render.CHIME], 600)
    # The approver's choice, kept on the version at publication; the settings for older rows.
    repeat = row["emergency_repeat"] or rt.settings.emergency_repeat
    interval = row["emergency_interval_s"] or rt.settings.emergency_interval_seconds
    now = rt.clock.now()
    started = row["published_at"] or now
    ends = started + timedelta(seconds=interval * (repeat - 1)) + timedelta(milliseconds=audio.duration_ms)
    if row["valid_until"] is not None:
        ends = max(ends, row["valid_until"])
    codes = sorted(t["area_code"] for t in targets)
    ref = {"id": str(notice.id), "thread_id": str(notice.thread_id), "version": notice.version}
    draft = store.Draft(
        kind="emergency",
        scope=store.emergency_scope(notice.thread_id),
        station_id=None,
        group_id=None,
        area_codes=codes,
        entries=[
            {
                "id": f"{notice.id}/audio",
                "kind": "emergency_audio",
                "notice_id": str(notice.id),
                "media_id": audio.sha256,
                "duration_ms": audio.duration_ms,
                "preempt": True,
            },
            {
                "id": f"{notice.id}/slide",
                "kind": "emergency_slide",
                "notice_id": str(notice.id),
                "title": notice.title,
                "body": notice.body,
                "preempt": True,
            },
        ],
        media=[media_item(rt, audio)],
        notices=[ref],
        valid_from=started,
        valid_until=ends,
        thread_id=notice.thread_id,
        extra={"repeat": repeat, "interval_s": interval, "ends": store.iso(ends), "ended": False},
    )
    issued = await store.issue(rt, draft)
    previous = await Emergency.select().where(Emergency.thread_id == notice.thread_id).first()
    values = {
        "notice_id": notice.id,
        "version": issued.version,
        "area_codes": codes,
        "repeat": repeat,
        "interval_s": interval,
        "started_at": started,
        "ends_at": ends,
        "ended_at": None,
    }
    if previous is None:
        await Emergency.insert(Emergency(thread_id=notice.thread_id, **values)).on_conflict(
            target=Emergency.thread_id, action="DO NOTHING"
        )
    else:
        await Emergency.update({getattr(Emergency, k): v for k, v in values.items()}).where(
            Emergency.thread_id == notice.thread_id
        )
    if not issued.published:
        dropped = sorted(set(json_column(previous["area_codes"], [])) - set(codes)) if previous else []
        await _publish(rt, codes, notice.thread_id, issued.envelope, clear=False)
        if dropped:
            # Devices there still hold the older version: they get the new signed one, which no
            # longer names their area (so it ended for them), then the retained copy is cleared.
            await _publish(rt, dropped, notice.thread_id, issued.envelope, clear=True)
        await store.mark_published(rt, issued.id)
    return issued


async def end(rt: Runtime, thread_id: uuid.UUID, reason: str) -> store.Issued | None:
    state = await Emergency.select().where(Emergency.thread_id == thread_id).first()
    if state is None:
        return None
    ended_at = state["ended_at"] or rt.clock.now()
    if state["ended_at"] is None:
        await Emergency.update({Emergency.ended_at: ended_at}).where(Emergency.thread_id == thread_id)
    codes = list(json_column(state["area_codes"], []))
    draft = store.Draft(
        kind="emergency",
        scope=store.emergency_scope(thread_id),
        station_id=None,
        group_id=None,
        area_codes=codes,
        entries=[],
        media=[],
        notices=[{"id": str(state["notice_id"]), "thread_id": str(thread_id), "version": state["version"]}],
        valid_from=ended_at,
        valid_until=ended_at + END_VALIDITY,
        thread_id=thread_id,
        extra={"repeat": 0, "interval_s": 0, "ends": store.iso(ended_at), "ended": True, "reason": reason},
    )
    issued = await store.issue(rt, draft)
    if not issued.published:
        await _publish(rt, codes, thread_id, issued.envelope, clear=True)
        await store.mark_published(rt, issued.id)
    return issued
