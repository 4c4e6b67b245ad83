"""Working-day arithmetic for handling deadlines, in Vietnam time.

A deadline of *n* working days runs from the first working day after the day the report arrived
(the day of arrival is not counted, as in administrative practice) and ends at the close of the
n-th working day, 17:00 Asia/Ho_Chi_Minh. Saturdays, Sundays and the dates in the ``holiday``
table are not working days. Vietnam has no daylight saving time, so UTC+7 is exact."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from backend.officials.feedback.tables import FeedbackSla, Holiday

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
CLOSE_OF_DAY = time(17, 0)
DEFAULT_SLA = "*"


def local_date(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date()


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: Collection[date]) -> date:
    """The ``days``-th working day after ``start`` (``days`` ≥ 0; 0 → ``start`` itself)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def subtract_working_days(end: date, days: int, holidays: Collection[date]) -> date:
    day = end
    left = days
    while left > 0:
        day -= timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def close_of(day: date) -> datetime:
    return datetime.combine(day, CLOSE_OF_DAY, VN_TZ).astimezone(UTC)


def working_days_between(start: date, end: date, holidays: Collection[date]) -> int:
    """Working days after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            count += 1
    return count


@dataclass(frozen=True)
class Sla:
    ack_days: int
    answer_days: int
    remind_days: int


@dataclass(frozen=True)
class Deadlines:
    ack_due: datetime
    answer_due: datetime
    remind_at: datetime


async def holidays() -> set[date]:
    rows = await Holiday.select(Holiday.day)
    return {date.fromisoformat(r["day"]) for r in rows}


async def sla_for(category: str) -> Sla:
    rows = await FeedbackSla.select().where(FeedbackSla.category.is_in([category, DEFAULT_SLA]))
    by = {r["category"]: r for r in rows}
    row = by.get(category) or by.get(DEFAULT_SLA)
    if row is None:
        return Sla(ack_days=1, answer_days=10, remind_days=1)
    return Sla(ack_days=row["ack_days"], answer_days=row["answer_days"], remind_days=row["remind_days"])


def compute(received: datetime, sla: Sla, days_off: Collection[date]) -> Deadlines:
    start = local_date(received)
    answer_day = add_working_days(start, sla.answer_days, days_off)
    remind_day = subtract_working_days(answer_day, sla.remind_days, days_off)
    return Deadlines(
        ack_due=close_of(add_working_days(start, sla.ack_days, days_off)),
        answer_due=close_of(answer_day),
        remind_at=close_of(max(remind_day, start)),
    )


async def deadlines_for(category: str, received: datetime) -> Deadlines:
    return compute(received, await sla_for(category), await holidays())
