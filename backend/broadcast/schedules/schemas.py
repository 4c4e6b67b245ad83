"""API contract for week schedules and schedule conflicts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from backend.broadcast.stations.schemas import HHMM, Weekday
from backend.lib.schema import Schema

SessionId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,16}$")]


class WeekSessionIn(Schema):
    """One session of the week: a day, a time range, the groups that play it (none = all) and the
    relays of the upper level it carries (names from the station's rules)."""

    id: SessionId
    day: Weekday
    start: HHMM
    end: HHMM
    group_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    relays: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=5)] = []


class ScheduleIn(Schema):
    """A new version of the week; ``version`` is the version it replaces (stale → 409)."""

    version: int
    sessions: Annotated[list[WeekSessionIn], msgspec.Meta(max_length=60)]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Issue(Schema):
    field: str
    reason: str


class ScheduleOut(Schema):
    station_id: uuid.UUID
    version: int
    sessions: list[WeekSessionIn]
    note: str
    created_by: uuid.UUID | None
    created_at: datetime
    warnings: list[Issue]


class ScheduleVersionList(Schema):
    items: list[ScheduleOut]


class NeighbourOverlap(Schema):
    session_id: str
    day: int
    start: str
    end: str
    neighbour_area_code: str
    neighbour_station_id: uuid.UUID
    neighbour_session_id: str
    neighbour_start: str
    neighbour_end: str


class OverlongSession(Schema):
    session_id: str
    day: int
    minutes: int
    max_minutes: int


class MovedItem(Schema):
    key: str
    title: str
    group_id: uuid.UUID
    wanted: datetime
    placed: datetime


class UnplacedItem(Schema):
    key: str
    title: str
    group_id: uuid.UUID | None
    reason: str
    valid_until: datetime | None


class ConflictsOut(Schema):
    station_id: uuid.UUID
    schedule_version: int
    neighbour_overlaps: list[NeighbourOverlap]
    overlong_sessions: list[OverlongSession]
    moved: list[MovedItem]
    unplaced: list[UnplacedItem]
    compiled_at: datetime | None
