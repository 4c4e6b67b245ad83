"""Telling a commune's officials what the compiled programme could not do with a notice.

REFERENCE §1: what does not fit a session moves to the next one *and the official is told*; a
notice that cannot be placed before it expires is flagged. After each compilation every notice
moved to a later session, and every notice left unplaced, gives each commune official and leader of
the station one entry in their staff inbox, in the account's language (Vietnamese unless it chose
another), naming the notice and the session it now plays in, or why it cannot play; new entries are
also pushed to their phones (outbox channel ``staffinbox``).

The entry's key names the notice version, the station, the outcome and — for a move — the session
it moved to. The worker recompiles a station on every change and every day; finding the same move
again tells nobody twice, while a move to another session, or a new version, is news."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from backend.broadcast.programme.compile import Moved, Plan, Unplaced
from backend.broadcast.programme.sources import NoticeSource
from backend.broadcast.stations.rules import VN_TZ
from backend.lib.i18n import DEFAULT_LANGUAGE, translate
from backend.officials.inbox import services as inbox
from backend.runtime import Runtime


def when(moment: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    local = moment.astimezone(VN_TZ)
    return translate(
        "programme.when", language, time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y")
    )


def moved_text(
    notice: NoticeSource, move: Moved, station: str, language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
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
    notice: NoticeSource, miss: Unplaced, station: str, language: str = DEFAULT_LANGUAGE
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
    recipients = await inbox.officials_over(station["area_path"])
    station_id = station["id"]
    notes: list[inbox.Note] = []

    def tell(
        kind: str, key: str, text: Callable[[str], tuple[str, str]], notice_id: uuid.UUID, **more: Any
    ) -> None:
        texts = {language: text(language) for language in {r.language for r in recipients}}
        notes.extend(
            inbox.Note(
                account_id=r.account_id,
                kind=kind,
                dedupe_key=f"{kind}:{notice_id}:{station_id}:{key}{r.account_id}",
                title=texts[r.language][0],
                body=texts[r.language][1],
                notice_id=notice_id,
                station_id=station_id,
                **more,
            )
            for r in recipients
        )

    for key, move in moved.items():
        notice = notices[key]
        at = int(move.placed.timestamp())
        text = partial(moved_text, notice, move, station["name"])
        tell("notice_moved", f"{at}:", text, notice.id, session_at=move.placed)
    for key, miss in unplaced.items():
        notice = notices[key]
        tell("notice_unplaced", "", partial(unplaced_text, notice, miss, station["name"]), notice.id)
    fresh = await inbox.deliver(rt, notes)
    # The officials' phones hear of it too, through the staff inbox's outbox channel.
    await inbox.push_later(rt, fresh, aggregate_id=str(station_id))
    return fresh
