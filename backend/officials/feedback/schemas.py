"""API contract for staff handling of citizen feedback. No reporter identity appears anywhere
except ``StaffFeedbackOut.reporter``, filled only for a permitted role and a named report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.citizen.feedback.schemas import MAX_TEXT, MediaOut, Status
from backend.lib.schema import Schema

Reason = Annotated[str, msgspec.Meta(max_length=1000)]
Group = Literal["open", "resolved", "closed"]
Sort = Literal["newest", "oldest", "due"]
IsoDate = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class HandlingOut(Schema):
    unit: uuid.UUID | None
    unit_name: str | None
    triage: bool
    assignee: uuid.UUID | None
    ack_due: datetime
    answer_due: datetime
    remind_at: datetime
    acknowledged_at: datetime | None
    overdue: bool
    escalated_to: uuid.UUID | None
    escalated_at: datetime | None
    duplicate_of: uuid.UUID | None
    possible_duplicate: uuid.UUID | None


class QueueItem(Schema):
    id: uuid.UUID
    token: str
    category: str
    status: Status
    group: Group
    area_code: str | None
    path: str
    excerpt: str
    created_at: datetime
    handling: HandlingOut


class QueuePage(Schema):
    items: list[QueueItem]
    next_cursor: str | None = None


class QueueFilter(Schema):
    state: Status | None = None
    group: Group | None = None
    category: str | None = None
    area: str | None = None
    overdue: bool | None = None
    assignee: str | None = None  # an account id, "me" or "none"
    unit: uuid.UUID | None = None
    triage: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    sort: Sort = "newest"
    cursor: str | None = None
    limit: int = 50


class ReporterOut(Schema):
    account_id: uuid.UUID | None
    name: str
    phone: str
    email: str


class StaffEventOut(Schema):
    at: datetime
    kind: str
    public: bool
    from_status: str
    to_status: str
    text: str
    rating: int | None
    actor_role: str
    actor_id: uuid.UUID | None


class DuplicateOut(Schema):
    id: uuid.UUID
    token: str
    status: Status
    excerpt: str
    created_at: datetime
    score: float


class StaffFeedbackOut(Schema):
    id: uuid.UUID
    token: str
    category: str
    status: Status
    group: Group
    area_code: str | None
    path: str
    lat: float | None
    long: float | None
    address: str
    text: str
    anonymous: bool
    rating: int | None
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
    reporter: ReporterOut | None
    media: list[MediaOut]
    handling: HandlingOut
    duplicates: list[uuid.UUID]
    followers: int
    suggested_duplicates: list[DuplicateOut]
    history: list[StaffEventOut]


class ReasonIn(Schema):
    reason: Reason = ""


class TextIn(Schema):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    reason: Reason = ""


class AnswerIn(Schema):
    """The public answer: ``text``, or an answer template's text when ``text`` is left out."""

    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] = ""
    template: uuid.UUID | None = None
    reason: Reason = ""


class AssignIn(Schema):
    ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    assignee: uuid.UUID
    reason: Reason = ""


class AssignOut(Schema):
    assigned: list[uuid.UUID]


class RouteIn(Schema):
    unit: uuid.UUID
    reason: Reason = ""


class MergeIn(Schema):
    original: uuid.UUID
    reason: Reason = ""


class NoticeFromAnswerIn(Schema):
    """A draft notice for the commune loudspeakers from the last public answer."""

    area_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = (
        "Trả lời phản ánh, kiến nghị của người dân"
    )


class NoticeRef(Schema):
    notice_id: uuid.UUID
    # Marked for the commune station's programmes (false when the commune has no station yet).
    radio: bool = False


# Configuration (admin)


class UnitIn(Schema):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    area_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    supervisor: uuid.UUID | None = None
    active: bool = True


class UnitOut(Schema):
    id: uuid.UUID
    name: str
    area_code: str
    supervisor: uuid.UUID | None
    active: bool


class UnitList(Schema):
    items: list[UnitOut]


class RuleIn(Schema):
    area_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    unit: uuid.UUID
    category: Annotated[str, msgspec.Meta(max_length=32)] = ""


class RuleOut(Schema):
    id: uuid.UUID
    category: str
    area_code: str
    unit: uuid.UUID


class RuleList(Schema):
    items: list[RuleOut]


class HolidayIn(Schema):
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""


class HolidayOut(Schema):
    day: str
    name: str


class HolidayList(Schema):
    items: list[HolidayOut]


class SlaIn(Schema):
    ack_days: Annotated[int, msgspec.Meta(ge=0, le=60)]
    answer_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    remind_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 1


class SlaOut(Schema):
    category: str
    ack_days: int
    answer_days: int
    remind_days: int


class SlaList(Schema):
    items: list[SlaOut]


class TemplateIn(Schema):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    category: Annotated[str, msgspec.Meta(max_length=32)] = ""
    active: bool = True


class TemplateOut(Schema):
    id: uuid.UUID
    title: str
    text: str
    category: str
    active: bool


class TemplateList(Schema):
    items: list[TemplateOut]


class SweepOut(Schema):
    created: int
    reminders: int
    overdue: int
    escalations: int
