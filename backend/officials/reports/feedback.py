"""Feedback figures of the dashboard and the yearly report, counted by the database.

A province's year holds about 100,000 reports: reading them into Python costs seconds, so the
counts are SQL aggregates grouped by category and Vietnam-time month (a few hundred rows back), and
only the answer times of answered reports (one float each) come back for the medians, which
neither engine computes alike. Totals and per-category and per-month figures are sums of the
groups; every median is taken over its own list of answer times."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.citizen.feedback.schemas import OPEN_STATES
from backend.lib.db import Database
from backend.officials.feedback import timing
from backend.officials.reports.schemas import CategoryFigures, FeedbackFigures, MonthFigures

ANSWER_KINDS = ("answer", "resolved")

# Vietnam keeps UTC+7 all year, so a fixed shift gives its calendar month.
_MONTH = {
    "sqlite": "strftime('%Y-%m', h.created_at, '+7 hours')",
    "postgres": "to_char((h.created_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM')",
}
_HOURS = {
    "sqlite": "(julianday(r.first_answer) - julianday(r.created_at)) * 24.0",
    "postgres": "EXTRACT(EPOCH FROM (r.first_answer - r.created_at)) / 3600.0",
}


def _quoted(values: tuple[str, ...]) -> str:
    """State names are constants of the code, never input, so they are written into the SQL."""
    return ", ".join(f"'{value}'" for value in values)


def _rows_sql(dialect: str) -> str:
    """One narrow row per report of the window, with its first public answer. The answers are
    grouped once and hash-joined: a lookup per report costs PostgreSQL a sub-plan per row."""
    return f"""
        SELECT h.category AS category, {_MONTH[dialect]} AS month, h.created_at AS created_at,
               h.ack_due AS ack_due, h.answer_due AS answer_due, f.status AS status, f.rating AS rating,
               a.first_answer AS first_answer
          FROM feedback_handling h JOIN feedback f ON f.id = h.feedback
          LEFT JOIN (SELECT e.feedback AS feedback, MIN(e.at) AS first_answer FROM feedback_event e
                      WHERE e.public = {{}} AND e.kind IN ({_quoted(ANSWER_KINDS)}) AND e.at >= {{}}
                      GROUP BY e.feedback) a ON a.feedback = h.feedback
         WHERE h.path LIKE {{}} AND h.created_at >= {{}} AND h.created_at < {{}}"""


def _groups_sql(dialect: str) -> str:
    running = _quoted(timing.RUNNING_STATES)
    return f"""
        SELECT r.category AS category, r.month AS month, COUNT(*) AS received,
               COUNT(r.first_answer) AS answered,
               SUM(CASE WHEN r.first_answer <= r.answer_due THEN 1 ELSE 0 END) AS answered_on_time,
               SUM(CASE WHEN r.status IN ({_quoted(OPEN_STATES)}) THEN 1 ELSE 0 END) AS open_now,
               SUM(CASE WHEN r.status IN ({running}) AND (r.answer_due < {{}}
                        OR (r.status = 'received' AND r.ack_due < {{}})) THEN 1 ELSE 0 END) AS overdue_now,
               COUNT(r.rating) AS rating_count, COALESCE(SUM(r.rating), 0) AS rating_sum
          FROM ({_rows_sql(dialect)}) r
         GROUP BY r.category, r.month"""


def _hours_sql(dialect: str) -> str:
    return f"""
        SELECT r.category AS category, r.month AS month, {_HOURS[dialect]} AS hours
          FROM ({_rows_sql(dialect)}) r
         WHERE r.first_answer IS NOT NULL"""


@dataclass
class _Tally:
    received: int = 0
    answered: int = 0
    answered_on_time: int = 0
    open_now: int = 0
    overdue_now: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    hours: list[float] = field(default_factory=list)

    def add(self, group: dict[str, Any]) -> None:
        for name in ("received", "answered", "answered_on_time", "open_now", "overdue_now", "rating_count"):
            setattr(self, name, getattr(self, name) + int(group[name] or 0))
        self.rating_sum += int(group["rating_sum"] or 0)

    def figures(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "answered": self.answered,
            "answered_on_time": self.answered_on_time,
            "answered_late": self.answered - self.answered_on_time,
            "open_now": self.open_now,
            "overdue_now": self.overdue_now,
            "median_hours_to_answer": round(statistics.median(self.hours), 2) if self.hours else None,
            "rating_count": self.rating_count,
            "rating_mean": round(self.rating_sum / self.rating_count, 2) if self.rating_count else None,
        }


async def feedback_figures(
    db: Database, path: str, start: datetime, end: datetime, now: datetime, months: list[str]
) -> FeedbackFigures:
    """Reports created in [start, end) whose effective area is inside ``path``."""
    window = (True, start, f"{path}%", start, end)  # an answer never precedes its report
    postgres = db.dialect == "postgres"
    async with db.transaction() if postgres else db.reading():
        if postgres:
            # These plans cost enough to trigger PostgreSQL's JIT, whose compilation alone takes
            # longer than the queries.
            await db.execute("SET LOCAL jit = off")
        groups = await db.fetch(_groups_sql(db.dialect), now, now, *window)
        answers = await db.fetch(_hours_sql(db.dialect), *window)
    total = _Tally()
    by_category: dict[str, _Tally] = defaultdict(_Tally)
    by_month: dict[str, _Tally] = defaultdict(_Tally)
    for group in groups:
        for tally in (total, by_category[group["category"]], by_month[group["month"]]):
            tally.add(group)
    for answer in answers:
        hours = float(answer["hours"])
        for tally in (total, by_category[answer["category"]], by_month[answer["month"]]):
            tally.hours.append(hours)
    return FeedbackFigures(
        **total.figures(),
        by_category=[CategoryFigures(category=c, **by_category[c].figures()) for c in sorted(by_category)],
        monthly=[MonthFigures(month=m, **by_month[m].figures()) for m in months],
    )
