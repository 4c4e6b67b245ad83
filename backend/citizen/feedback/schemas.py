"""API contract for citizens' feedback: submission, tracking and the citizen's follow-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

from backend.lib.schema import Schema

MAX_TEXT = 4000

# Handling states (the handling workflow itself is a later issue). Each belongs to the open or
# the closed group, which is what Open311 shows.
OPEN_STATES = ("received", "accepted", "assigned", "in_progress", "waiting_for_citizen", "reopened")
CLOSED_STATES = ("answered", "resolved", "forwarded", "duplicate", "rejected")
STATES = OPEN_STATES + CLOSED_STATES
Status = Literal[
    "received",
    "accepted",
    "assigned",
    "in_progress",
    "waiting_for_citizen",
    "reopened",
    "answered",
    "resolved",
    "forwarded",
    "duplicate",
    "rejected",
]

ClientId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]


def group_of(status: str) -> str:
    return "open" if status in OPEN_STATES else "closed"


class FeedbackIn(Schema):
    """A report. ``client_id`` is generated once on the phone and sent again on every retry."""

    client_id: ClientId
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    text: Text
    area_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    long: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    address: Annotated[str, msgspec.Meta(max_length=512)] = ""
    anonymous: bool = True


@dataclass
class FeedbackUpload:
    """multipart/form-data: ``feedback`` is the JSON of a FeedbackIn; up to 5 ``photos`` (JPEG, PNG,
    WebP) or one ``voice`` note (OGG/Opus, MP3, M4A/AAC, AMR, WAV), typed by content, not by name."""

    feedback: str
    photos: list[UploadFile] = field(default_factory=list)
    voice: UploadFile | None = None


class MediaOut(Schema):
    kind: str
    mime: str
    size: int
    sha256: str


class EventOut(Schema):
    at: datetime
    kind: str
    by: str
    status: str | None = None
    text: str | None = None
    rating: int | None = None


class FeedbackSummary(Schema):
    id: uuid.UUID
    token: str
    client_id: str | None
    category: str
    status: Status
    status_group: str
    area_code: str | None
    text: str
    created_at: datetime
    updated_at: datetime


class FeedbackOut(Schema):
    id: uuid.UUID
    token: str
    client_id: str | None
    category: str
    status: Status
    status_group: str
    area_code: str | None
    area_name: str | None
    lat: float | None
    long: float | None
    address: str
    text: str
    anonymous: bool
    rating: int | None
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
    can_add_information: bool
    can_rate: bool
    reopen_until: datetime | None
    media: list[MediaOut]
    history: list[EventOut]


class FeedbackList(Schema):
    items: list[FeedbackSummary]
    next_cursor: str | None = None


class InformationIn(Schema):
    text: Text


class RatingIn(Schema):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class NotResolvedIn(Schema):
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] = ""
