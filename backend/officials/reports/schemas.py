"""API contract of the dashboard and the yearly report: figures only, never table rows."""

from __future__ import annotations

from datetime import date, datetime

from backend.lib.schema import Schema


class FeedbackCounts(Schema):
    """Feedback received in the period and what became of it.

    ``answered_on_time`` / ``answered_late`` compare the first public answer (an ``answer`` or
    ``resolved`` entry in the report's history) with the answer deadline; ``overdue_now`` counts
    reports still open whose deadline has passed at the time of the request;
    ``median_hours_to_answer`` is the median time from receipt to the first public answer;
    ``rating_mean`` is the mean of the citizens' ratings (1–5) over ``rating_count`` ratings."""

    received: int
    answered: int
    answered_on_time: int
    answered_late: int
    open_now: int
    overdue_now: int
    median_hours_to_answer: float | None
    rating_count: int
    rating_mean: float | None


class CategoryFigures(FeedbackCounts):
    category: str


class MonthFigures(FeedbackCounts):
    month: str  # YYYY-MM, Vietnam time


class FeedbackFigures(FeedbackCounts):
    by_category: list[CategoryFigures]
    monthly: list[MonthFigures]


class DashboardOut(Schema):
    area_code: str
    area_name: str
    date_from: date
    date_to: date
    start: datetime
    end: datetime  # exclusive
    generated_at: datetime
    feedback: FeedbackFigures


class CountBy(Schema):
    key: str
    count: int


class PushFigures(Schema):
    total: int
    sent: int
    failed: int
    other: int


class NoticeFigures(Schema):
    """Notices published in the window (each published version counts once), what the outbox
    queued for each channel (rows with event ``published``), and the push deliveries made."""

    published: int
    by_category: list[CountBy]
    by_priority: list[CountBy]
    by_channel: list[CountBy]
    push: PushFigures


class DeviceFigures(Schema):
    available: bool
    clusters: int
    eboards: int
    total: int
    online: int
    online_share: float | None
    note: str


class YearlyReportOut(Schema):
    year: int
    area_code: str
    area_name: str
    start: datetime
    end: datetime  # exclusive
    last_moment: datetime
    generated_at: datetime
    feedback: FeedbackFigures
    notices: NoticeFigures
    devices: DeviceFigures
