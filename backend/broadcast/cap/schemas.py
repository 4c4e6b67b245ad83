"""The CAP channel's contracts: the outbox payload it reads and the CAP 1.2 alert it writes.

The alert structs mirror CAP 1.2 (OASIS, 2010) element for element, in the schema's order, so the
renderer is a plain walk over them; they are never table rows."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class NoticeEvent(msgspec.Struct, kw_only=True):
    """Payload of a notice's ``published`` or ``withdrawn`` outbox row (extra keys are ignored)."""

    notice_id: uuid.UUID
    thread_id: uuid.UUID
    version: int = 1
    msg_type: str = "alert"
    priority: str = "normal"
    references_id: uuid.UUID | None = None


class Geocode(msgspec.Struct, kw_only=True):
    value_name: str
    value: str


class Area(msgspec.Struct, kw_only=True):
    area_desc: str
    geocodes: list[Geocode] = []


class Resource(msgspec.Struct, kw_only=True):
    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None


class Info(msgspec.Struct, kw_only=True):
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    effective: datetime | None = None
    expires: datetime
    sender_name: str
    headline: str
    description: str
    resources: list[Resource] = []
    areas: list[Area] = []


class Alert(msgspec.Struct, kw_only=True):
    identifier: str
    sender: str
    sent: datetime
    status: str = "Actual"
    msg_type: str
    scope: str = "Public"
    note: str | None = None
    references: str | None = None
    infos: list[Info] = []


class AtomEntry(msgspec.Struct, kw_only=True):
    identifier: str
    headline: str
    sent: datetime
    expires: datetime
    msg_type: str
