"""API contract for a station's programme choices and recordings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

ItemKind = Literal["notice", "recording", "answer"]


class ItemIn(Schema):
    """A notice the commune chose (normal notices play only when chosen; priority ones always), an
    official's recording (by the sha256 it was uploaded with), or an answer to citizen feedback."""

    kind: ItemKind
    notice_thread_id: uuid.UUID | None = None
    media_sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    title: Annotated[str, msgspec.Meta(max_length=255)] = ""
    plays: Annotated[int, msgspec.Meta(ge=1, le=60)] = 1
    group_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    eboard_priority: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    daypart: Annotated[str, msgspec.Meta(max_length=32)] = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class ItemOut(Schema):
    id: uuid.UUID
    kind: str
    notice_thread_id: uuid.UUID | None
    media_sha256: str
    title: str
    duration_ms: int
    position: int
    plays: int
    group_ids: list[uuid.UUID]
    eboard_priority: int
    daypart: str
    valid_from: datetime | None
    valid_until: datetime | None


class ItemList(Schema):
    items: list[ItemOut]


class OrderIn(Schema):
    """The commune's order of priority notices (by thread); unlisted ones follow, oldest first."""

    thread_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)]


class RecordingOut(Schema):
    sha256: str
    size: int
    duration_ms: int
