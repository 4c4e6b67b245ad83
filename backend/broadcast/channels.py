"""The ``mqtt`` (loudspeakers) and ``eboard`` outbox channels.

A notice event (published, withdrawn) starts or ends an emergency at once, and asks for every
station the notice reaches to be rebuilt — as one ``station_changed`` row per station, so a
province-wide notice becomes many small jobs, each retried on its own. A ``station_changed`` row
rebuilds that station's audio (``mqtt``) or e-board (``eboard``) manifests. Both channels may see
the same emergency; the manifest store issues it once and the first to publish it marks it sent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from backend.broadcast import emergency
from backend.broadcast.eboard import build_eboard
from backend.broadcast.programme.build import build_audio
from backend.broadcast.programme.sources import stations_reached
from backend.broadcast.tables import Emergency
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox import services as outbox
from backend.core.outbox.services import ChannelHandler, ClaimedMessage
from backend.runtime import Runtime

log = logging.getLogger(__name__)


async def _notice_event(rt: Runtime, message: ClaimedMessage) -> None:
    notice_id = uuid.UUID(message.payload["notice_id"])
    row = (
        await Notice.select(Notice.thread_id, Notice.priority, Notice.msg_type)
        .where(Notice.id == notice_id)
        .first()
    )
    if row is None:
        return
    is_emergency = row["priority"] == "emergency" or await Emergency.exists().where(
        Emergency.thread_id == row["thread_id"]
    )
    if is_emergency:
        if message.event == "withdrawn":
            await emergency.end(rt, row["thread_id"], f"withdrawn:{notice_id}")
        elif row["priority"] == "emergency" or row["msg_type"] == "cancel":
            await emergency.start(rt, notice_id)
        else:  # an update downgraded the emergency: it ends, the new version plays in programmes
            await emergency.end(rt, row["thread_id"], f"update:{notice_id}")
    paths = [
        t["area_path"]
        for t in await NoticeTarget.select(NoticeTarget.area_path).where(NoticeTarget.notice == notice_id)
    ]
    stations = await stations_reached(rt, paths)
    if not stations:
        return
    async with rt.db.transaction():
        for station_id in stations:
            await outbox.enqueue(
                rt,
                channel=message.channel,
                event="station_changed",
                aggregate_id=str(station_id),
                payload={"station_id": str(station_id), "why": f"notice {message.event}:{notice_id}"},
            )


def _handler(channel: str, build: Callable[[Runtime, uuid.UUID], Awaitable[object]]) -> ChannelHandler:
    async def handle(rt: Runtime, message: ClaimedMessage) -> None:
        if message.event in ("published", "withdrawn"):
            await _notice_event(rt, message)
        elif message.event == "station_changed":
            await build(rt, uuid.UUID(message.payload["station_id"]))
        else:
            log.info("%s: ignoring outbox %s event %s", channel, message.id, message.event)

    return handle


mqtt_handler = _handler("mqtt", build_audio)
eboard_handler = _handler("eboard", build_eboard)
