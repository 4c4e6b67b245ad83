"""What a staff account reads of its inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from backend.lib.schema import Schema


class StaffNotificationOut(Schema):
    id: int
    title: str
    body: str
    device_id: uuid.UUID | None
    alarm_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None
    kind: Literal["device_alarm", "notice_moved", "notice_unplaced"] = "device_alarm"
    notice_id: uuid.UUID | None = None
    station_id: uuid.UUID | None = None
    session_at: datetime | None = None  # the session a moved notice plays in


class StaffNotificationList(Schema):
    items: list[StaffNotificationOut]
