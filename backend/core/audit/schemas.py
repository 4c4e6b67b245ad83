"""API contract of the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from backend.lib.schema import Schema


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    actor_area: str
    action: str
    target_type: str
    target_id: str
    client_addr: str
    request_id: str
    details: dict[str, Any]


class AuditPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditFilter(Schema):
    action: str | None = None
    actor_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50
