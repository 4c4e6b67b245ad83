"""API contract for notices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

Priority = Literal["normal", "priority", "emergency"]
Status = Literal["draft", "submitted", "approved", "published", "expired", "withdrawn", "superseded"]
MsgType = Literal["alert", "update", "cancel"]
LanguageTag = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class NoticeText(Schema):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    summary: Annotated[str, msgspec.Meta(max_length=300)] = ""


class Attachment(Schema):
    kind: Literal["audio", "image", "document", "video"]
    mime_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z]+/[a-zA-Z0-9.+-]+$", max_length=100)]
    size: Annotated[int, msgspec.Meta(ge=0, le=500_000_000)]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""
    url: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class NoticeIn(Schema):
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    priority: Priority
    target_areas: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=500)]
    texts: dict[LanguageTag, NoticeText]
    owner_area: AreaCode | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attachments: Annotated[list[Attachment], msgspec.Meta(max_length=20)] = []


class NoticePatch(Schema):
    """Fields left out stay as they are. ``row_version`` guards against overwriting someone's edit."""

    row_version: int
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    priority: Priority | None = None
    target_areas: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=500)] | None = None
    texts: dict[LanguageTag, NoticeText] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attachments: Annotated[list[Attachment], msgspec.Meta(max_length=20)] | None = None


class ActionIn(Schema):
    row_version: int | None = None
    reason: Reason = ""


EMERGENCY_REPEAT_MIN, EMERGENCY_REPEAT_MAX = 1, 10
EMERGENCY_INTERVAL_MIN_S, EMERGENCY_INTERVAL_MAX_S = 10, 3600
EmergencyRepeat = Annotated[int, msgspec.Meta(ge=EMERGENCY_REPEAT_MIN, le=EMERGENCY_REPEAT_MAX)]
EmergencyInterval = Annotated[int, msgspec.Meta(ge=EMERGENCY_INTERVAL_MIN_S, le=EMERGENCY_INTERVAL_MAX_S)]


class EmergencyPublishIn(ActionIn):
    """Publishing an emergency at once. ``repeat`` (plays) and ``interval_s`` (seconds from the start
    of one play to the next) are the approver's choice for this emergency; left out, an update keeps
    the values of the version it updates and a new emergency takes the province settings."""

    repeat: EmergencyRepeat | None = None
    interval_s: EmergencyInterval | None = None


class NewVersionIn(Schema):
    """An update or a cancellation of a published notice; unspecified fields are copied."""

    msg_type: Literal["update", "cancel"]
    reason: Reason = ""
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    priority: Priority | None = None
    target_areas: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=500)] | None = None
    texts: dict[LanguageTag, NoticeText] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attachments: Annotated[list[Attachment], msgspec.Meta(max_length=20)] | None = None


class NoticeOut(Schema):
    id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    references_id: uuid.UUID | None
    msg_type: str
    status: str
    category: str
    priority: str
    owner_area: str
    target_areas: list[str]
    texts: dict[str, NoticeText]
    attachments: list[Attachment]
    valid_from: datetime | None
    valid_until: datetime | None
    created_by: uuid.UUID
    approved_by: uuid.UUID | None
    published_by: uuid.UUID | None
    submitted_at: datetime | None
    approved_at: datetime | None
    published_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    row_version: int
    created_at: datetime
    updated_at: datetime
    # How an emergency plays (set when an emergency-priority version is published).
    emergency_repeat: int | None = None
    emergency_interval_s: int | None = None


class NoticeList(Schema):
    items: list[NoticeOut]
    next_cursor: str | None


class NoticeFilter(Schema):
    status: Status | None = None
    category: str | None = None
    priority: Priority | None = None
    area: str | None = None
    thread_id: uuid.UUID | None = None
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
