"""Telling a commune's officials what the compiled programme could not do with a notice.

REFERENCE §1: what does not fit a session moves to the next one *and the official is told*; a
notice that cannot be placed before it expires is flagged. After each compilation every notice
moved to a later session, and every notice left unplaced, gives each commune official and leader of
the station one entry in their staff inbox (Vietnamese first) naming the notice and the session it
now plays in, or why it cannot play; new entries are also pushed to their phones.

The entry's key names the notice version, the station, the outcome and — for a move — the session
it moved to. The worker recompiles a station on every change and every day; finding the same move
again tells nobody twice, while a move to another session, or a new version, is news."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.broadcast.programme.compile import Moved, Plan, Unplaced
from backend.broadcast.programme.sources import NoticeSource
from backend.broadcast.stations.rules import VN_TZ
from backend.core.outbox import services as outbox
from backend.devices.health import inbox
from backend.lib.i18n import translate
from backend.runtime import Runtime

STAFF_CHANNEL = "devicealarm"  # the outbox channel that pushes staff inbox entries to phones


def when(moment: datetime, language: str = "vi") -> str:
    local = moment.astimezone(VN_TZ)
    return translate(
        "programme.when", language, time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y")
    )


def moved_text(notice: NoticeSource, move: Moved, station: str, language: str = "vi") -> tuple[str, str]:
    title = translate("programme.moved.title", language, title=notice.title)
    body = translate(
        "programme.moved.body",
        language,
        title=notice.title,
        station=station,
        wanted=when(move.wanted, language),
        placed=when(move.placed, language),
    )
    return title, body


def unplaced_text(
    notice: NoticeSource, miss: Unplaced, station: str, language: str = "vi"
) -> tuple[str, str]:
    until = (
        when(miss.valid_until, language)
        if miss.valid_until is not None
        else translate("programme.no_expiry", language)
    )
    title = translate("programme.unplaced.title", language, title=notice.title)
    body = translate(
        f"programme.unplaced.{miss.reason}", language, title=notice.title, station=station, until=until
    )
    return title, body


def outcomes(plan: Plan, notices: dict[str, NoticeSource]) -> tuple[dict[str, Moved], dict[str, Unplaced]]:
    """Per notice: the earliest session any of the station's groups moved it to, and the first
    reason a group could not place it. Recordings and relays are the commune's own; not told."""
    moved: dict[str, Moved] = {}
    for m in plan.moved:
        if m.key in notices and (m.key not in moved or m.placed < moved[m.key].placed):
            moved[m.key] = m
    unplaced: dict[str, Unplaced] = {}
    for u in plan.unplaced:
        if u.key in notices:
            unplaced.setdefault(u.key, u)
    return moved, unplaced


async def tell_officials(
    rt: Runtime, station: dict[str, Any], plan: Plan, notices: dict[str, NoticeSource]
) -> list[tuple[int, uuid.UUID]]:
    """Write the inbox entries of this compilation (inside its transaction); return the new ones."""
    moved, unplaced = outcomes(plan, notices)
    if not moved and not unplaced:
        return []
    accounts = await inbox.officials_over(station["area_path"])
    station_id = station["id"]
    notes: list[inbox.Note] = []

    def tell(kind: str, key: str, text: tuple[str, str], notice_id: uuid.UUID, **more: Any) -> None:
        notes.extend(
            inbox.Note(
                account_id=account,
                kind=kind,
                dedupe_key=f"{kind}:{notice_id}:{station_id}:{key}{account}",
                title=text[0],
                body=text[1],
                notice_id=notice_id,
                station_id=station_id,
                **more,
            )
            for account in accounts
        )

    for key, move in moved.items():
        notice = notices[key]
        at = int(move.placed.timestamp())
        text = moved_text(notice, move, station["name"])
        tell("notice_moved", f"{at}:", text, notice.id, session_at=move.placed)
    for key, miss in unplaced.items():
        notice = notices[key]
        tell("notice_unplaced", "", unplaced_text(notice, miss, station["name"]), notice.id)
    fresh = await inbox.deliver(rt, notes)
    if fresh:  # the officials' phones hear of it too, through the staff notification channel
        await outbox.enqueue(
            rt,
            channel=STAFF_CHANNEL,
            event="inbox",
            aggregate_id=str(station_id),
            payload={"ids": [notification_id for notification_id, _ in fresh]},
        )
    return fresh
