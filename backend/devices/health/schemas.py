"""What devices report about themselves, what staff set and see about device health."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Schema

Volume = Annotated[int, msgspec.Meta(ge=0, le=100)]
AlarmType = Literal["offline", "playback_error", "manifest_verification_failed", "power", "low_volume"]
Severity = Literal["critical", "major", "minor", "warning"]
PowerSource = Literal["mains", "battery", "none"]


class ReportedPlacement(msgspec.Struct, kw_only=True):
    """Where the device says it listens: the placement of the last desired document it applied."""

    area_code: Annotated[str, msgspec.Meta(max_length=64)]
    area_path: Annotated[str, msgspec.Meta(max_length=512)]
    group_id: uuid.UUID | None = None


class ReportedState(msgspec.Struct, kw_only=True):
    """``state/reported`` from a device. ``version`` is the device's own counter: a report older
    than the last one stored is ignored. Unknown fields are kept out, not refused (newer firmware)."""

    schema: int = 1
    version: Annotated[int, msgspec.Meta(ge=0)]
    volume: Volume | None = None
    firmware: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    manifests: dict[str, int] | None = None  # manifest kind → version the device runs
    playing: bool | None = None
    error: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    power: PowerSource | None = None
    placement: ReportedPlacement | None = None


class DeviceEvent(msgspec.Struct, kw_only=True):
    """``events`` from a device: an alarm condition starting (``active``) or ending."""

    schema: int = 1
    type: AlarmType
    active: bool = True
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class DesiredIn(Schema):
    """What staff want the device to be at; fields left out keep their desired value."""

    volume: Volume | None = None
    firmware: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class Difference(Schema):
    field: str
    desired: Any
    reported: Any


class DeviceStateOut(Schema):
    device_id: uuid.UUID
    state: str
    state_since: datetime | None
    connected: bool
    last_activity_at: datetime | None
    desired: dict[str, Any]
    desired_version: int
    reported: dict[str, Any]
    reported_version: int
    reported_at: datetime | None
    # Desired volume, firmware and placement (after a move), and the group's current manifests,
    # the device does not run yet.
    delta: list[Difference]
    in_sync: bool


class StateChangeOut(Schema):
    state: str
    previous: str
    reason: str
    at: datetime


class StateHistory(Schema):
    items: list[StateChangeOut]


class AlarmOut(Schema):
    id: uuid.UUID
    device_id: uuid.UUID
    type: AlarmType
    severity: Severity
    active: bool
    acknowledged: bool
    details: dict[str, Any]
    occurrences: int
    raised_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None


class AlarmList(Schema):
    items: list[AlarmOut]


class CountBy(Schema):
    key: str
    count: int


class Dashboard(Schema):
    total: int
    by_state: list[CountBy]
    by_kind: list[CountBy]
    by_area: list[CountBy]
    open_alarms: list[CountBy]  # by severity
