"""Contracts of the broadcast log: a device's proof of play, an official's manual entry, and the
planned-versus-played view."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

PlayResult = Literal["played", "failed", "preempted", "skipped"]
RESULTS = ("played", "failed", "preempted", "skipped")
ShortText = Annotated[str, msgspec.Meta(max_length=1000)]


class PlayReport(msgspec.Struct, kw_only=True, frozen=True):
    """One proof of play from a device (devices stream → ``record_play``); idempotent on
    (device_id, report_id)."""

    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    group_id: uuid.UUID | None
    report_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    manifest_id: uuid.UUID | None
    item_id: Annotated[str, msgspec.Meta(max_length=64)]
    notice_id: uuid.UUID | None
    media_sha256: Annotated[str, msgspec.Meta(max_length=64)]
    started_at: datetime
    ended_at: datetime
    result: PlayResult
    detail: ShortText = ""


class ManualEntryIn(Schema):
    """What an official writes in the paper log: a session played (or not) on some clusters."""

    client_id: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]
    started_at: datetime
    ended_at: datetime
    result: PlayResult = "played"
    session_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    notice_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    clusters: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=100)
    ] = []
    detail: ShortText = ""


class ManualEntryOut(Schema):
    recorded: int
    duplicates: int


class PlayOut(Schema):
    device_id: str
    source: str
    item_id: str
    notice_id: uuid.UUID | None
    started_at: datetime
    ended_at: datetime
    result: str
    detail: str


class PlannedItem(Schema):
    item_id: str
    kind: str
    title: str
    notice_id: uuid.UUID | None
    offset_ms: int
    duration_ms: int


class SessionLog(Schema):
    session_id: uuid.UUID | None
    group_id: uuid.UUID | None
    group_name: str
    starts_at: datetime
    ends_at: datetime
    planned: list[PlannedItem]
    plays: list[PlayOut]
    clusters_played: list[str]
    items_played: int
    items_planned: int


class LogOut(Schema):
    station_id: uuid.UUID
    start: datetime
    end: datetime
    sessions: list[SessionLog]
    unplanned: list[PlayOut]
