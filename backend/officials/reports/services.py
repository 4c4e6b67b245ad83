"""Figures for the staff dashboard and the yearly grassroots-information report.

Everything is recomputed from the tables on each request (no cache to drift): feedback from
``feedback_handling`` (effective area path, creation time, deadlines) joined to its report (status,
rating) and the report's history (first public answer); notices from ``notice`` / ``notice_target``;
channels from the outbox rows a publication wrote; push from ``push_delivery``. Counts are SQL
aggregates (see ``feedback.py`` for the feedback figures); only medians are taken in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from backend.broadcast import broadcast_notices
from backend.citizen.push.tables import PushDelivery
from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.tables import OutboxMessage
from backend.lib.errors import Forbidden, NotFound, ValidationFailed
from backend.officials.feedback.deadlines import VN_TZ
from backend.officials.reports import devices, feedback
from backend.officials.reports.schemas import (
    CountBy,
    DashboardOut,
    FeedbackCounts,
    FeedbackFigures,
    NoticeFigures,
    PushFigures,
    YearlyReportOut,
)
from backend.runtime import Runtime

READERS = (Permission.NOTICE_READ, Permission.FEEDBACK_HANDLE)
CHUNK = 500
BROADCAST_CHANNELS = ("mqtt", "eboard")
MAX_DAYS = 3 * 366


def _bad(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": reason}])


# --- time windows -------------------------------------------------------------------------------


def vn_midnight(day: date) -> datetime:
    """00:00 of a calendar day in Vietnam, as UTC."""
    return datetime.combine(day, time(0, 0), VN_TZ).astimezone(UTC)


def parse_window_start(value: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in value.strip().split("-"))
        date(2025, month, day)  # a day that exists every year (no 29/02)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"KENG_REPORT_WINDOW_START must be MM-DD, got {value!r}") from exc
    return month, day


def yearly_window(year: int, window_start: str) -> tuple[datetime, datetime]:
    """[start, end) of the report year: from MM-DD of the previous year 00:00 to MM-DD of the report
    year 00:00 (so the last day counted is the day before, to 23:59:59), Vietnam time. A window
    starting 01-01 is the calendar year itself."""
    month, day = parse_window_start(window_start)
    if (month, day) == (1, 1):
        return vn_midnight(date(year, 1, 1)), vn_midnight(date(year + 1, 1, 1))
    return vn_midnight(date(year - 1, month, day)), vn_midnight(date(year, month, day))


def current_year(now: datetime, window_start: str) -> int:
    """The report year whose window holds ``now``."""
    year = now.astimezone(VN_TZ).year
    return year + 1 if now >= yearly_window(year, window_start)[1] else year


def months_between(start: datetime, end: datetime) -> list[str]:
    first = start.astimezone(VN_TZ)
    last = (end - timedelta(microseconds=1)).astimezone(VN_TZ)
    out: list[str] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# --- access ---------------------------------------------------------------------------------------


async def _area(code: str) -> dict[str, Any]:
    row = await Area.select(Area.code, Area.name, Area.path, Area.level).where(Area.code == code).first()
    if row is None:
        raise NotFound("area")
    return row


def _reader_grant(actor: Actor, path: str) -> Grant:
    holders = [g for p in READERS for g in actor.grants_with(p)]
    if not holders:
        raise Forbidden(details={"permission": " | ".join(p.value for p in READERS)})
    for permission in READERS:
        grant = actor.grant_for(permission, path)
        if grant is not None:
            return grant
    raise Forbidden("out_of_area", message_key="error.out_of_area", details={"permission": "notice.read"})


def default_area(actor: Actor, province_code: str) -> str:
    for permission in READERS:
        for grant in actor.grants_with(permission):
            return grant.area_code
    return province_code


async def _audit(rt: Runtime, actor: Actor, grant: Grant, target: str, details: dict[str, Any]) -> None:
    async with rt.db.transaction():
        await audit.record(
            rt, actor, "report.view", target_type="report", target_id=target, grant=grant, details=details
        )


# --- feedback -------------------------------------------------------------------------------------


async def feedback_figures(rt: Runtime, path: str, start: datetime, end: datetime) -> FeedbackFigures:
    return await feedback.feedback_figures(
        rt.db, path, start, end, rt.clock.now(), months_between(start, end)
    )


# --- notices --------------------------------------------------------------------------------------


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _count_by(rows: list[dict[str, Any]], column: str) -> list[CountBy]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[str(row[column])] += row["n"]
    return [CountBy(key=k, count=totals[k]) for k in sorted(totals)]


async def notice_figures(rt: Runtime, path: str, start: datetime, end: datetime) -> NoticeFigures:
    """Notices published in [start, end) that its owner or any target puts inside the area.

    Channels count what actually went out: push, CAP and SMS when the worker finished the notice's
    outbox row; loudspeakers (``mqtt``) and e-boards (``eboard``) when a device's proof of play, or
    an official's log entry, says it played."""
    in_window = (Notice.published_at >= start) & (Notice.published_at < end)
    owned = await Notice.select(Notice.id).where(in_window, Notice.owner_path.like(f"{path}%"))
    targeted = await NoticeTarget.select(NoticeTarget.notice).where(
        NoticeTarget.area_path.like(f"{path}%"),
        NoticeTarget.notice.published_at >= start,
        NoticeTarget.notice.published_at < end,
    )
    ids = sorted({r["id"] for r in owned} | {r["notice"] for r in targeted}, key=str)
    categories: list[dict[str, Any]] = []
    priorities: list[dict[str, Any]] = []
    channels: list[dict[str, Any]] = []
    push: list[dict[str, Any]] = []
    for part in _chunks(ids):
        categories += (
            await Notice.select(Notice.category, Count(alias="n"))
            .where(Notice.id.is_in(part))
            .group_by(Notice.category)
        )
        priorities += (
            await Notice.select(Notice.priority, Count(alias="n"))
            .where(Notice.id.is_in(part))
            .group_by(Notice.priority)
        )
        channels += (
            await OutboxMessage.select(OutboxMessage.channel, Count(alias="n"))
            .where(
                OutboxMessage.event == "published",
                OutboxMessage.status == "done",
                OutboxMessage.channel.not_in(list(BROADCAST_CHANNELS)),
                OutboxMessage.aggregate_id.is_in([str(i) for i in part]),
            )
            .group_by(OutboxMessage.channel)
        )
        push += (
            await PushDelivery.select(PushDelivery.status, Count(alias="n"))
            .where(PushDelivery.event == "published", PushDelivery.notice.is_in(part))
            .group_by(PushDelivery.status)
        )
    played = await broadcast_notices(rt, ids)
    channels += [
        {"channel": channel, "n": len(played[channel])} for channel in BROADCAST_CHANNELS if played[channel]
    ]
    statuses = {c.key: c.count for c in _count_by(push, "status")}
    total = sum(statuses.values())
    sent, failed = statuses.get("sent", 0), statuses.get("failed", 0)
    return NoticeFigures(
        published=len(ids),
        by_category=_count_by(categories, "category"),
        by_priority=_count_by(priorities, "priority"),
        by_channel=_count_by(channels, "channel"),
        push=PushFigures(total=total, sent=sent, failed=failed, other=total - sent - failed),
    )


# --- the two views --------------------------------------------------------------------------------


async def dashboard(
    rt: Runtime, actor: Actor, area_code: str | None, date_from: date | None, date_to: date | None
) -> DashboardOut:
    now = rt.clock.now()
    today = now.astimezone(VN_TZ).date()
    date_to = date_to or today
    if date_from is None:
        # The last twelve calendar months, this one included.
        year, month = (
            (date_to.year, date_to.month - 11)
            if date_to.month == 12
            else (date_to.year - 1, date_to.month + 1)
        )
        date_from = date(year, month, 1)
    if date_from > date_to:
        raise _bad("from", "must not be after to")
    if (date_to - date_from).days > MAX_DAYS:
        raise _bad("to", f"a period of at most {MAX_DAYS} days")
    area = await _area(area_code or default_area(actor, rt.settings.province_code))
    grant = _reader_grant(actor, area["path"])
    start, end = vn_midnight(date_from), vn_midnight(date_to + timedelta(days=1))
    out = DashboardOut(
        area_code=area["code"],
        area_name=area["name"],
        date_from=date_from,
        date_to=date_to,
        start=start,
        end=end,
        generated_at=now,
        feedback=await feedback_figures(rt, area["path"], start, end),
    )
    details = {"report": "dashboard", "area": area["code"], "from": str(date_from), "to": str(date_to)}
    await _audit(rt, actor, grant, f"dashboard:{area['code']}", details)
    return out


async def yearly(
    rt: Runtime, actor: Actor, year: int | None, area_code: str | None, fmt: str = "json"
) -> YearlyReportOut:
    if year is None:
        year = current_year(rt.clock.now(), rt.settings.report_window_start)
    if not 2000 <= year <= 2100:
        raise _bad("year", "between 2000 and 2100")
    area = await _area(area_code or rt.settings.province_code)
    if area["level"] != "province":
        raise _bad("area", "the yearly report is made for a province")
    grant = _reader_grant(actor, area["path"])
    try:
        start, end = yearly_window(year, rt.settings.report_window_start)
    except ValueError as exc:
        raise _bad("year", str(exc)) from exc
    out = YearlyReportOut(
        year=year,
        area_code=area["code"],
        area_name=area["name"],
        start=start,
        end=end,
        last_moment=end - timedelta(seconds=1),
        generated_at=rt.clock.now(),
        feedback=await feedback_figures(rt, area["path"], start, end),
        notices=await notice_figures(rt, area["path"], start, end),
        devices=await devices.device_figures(rt, area["path"]),
    )
    details = {"report": "yearly", "area": area["code"], "year": year, "format": fmt}
    await _audit(rt, actor, grant, f"yearly:{area['code']}:{year}", details)
    return out


def counts_of(figures: FeedbackCounts) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in FeedbackCounts.__struct_fields__}
