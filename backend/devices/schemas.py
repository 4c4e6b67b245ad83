"""API contract for the device registry and device credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

DeviceKind = Literal["cluster", "eboard", "receiver"]
DeviceStatus = Literal["pending", "active", "retired"]
PresenceState = Literal["unknown", "online", "offline", "playing", "error"]
AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
HardwareId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Name = Annotated[str, msgspec.Meta(max_length=255)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Codec = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Pixels = Annotated[int, msgspec.Meta(ge=1, le=16384)]


class Capabilities(Schema):
    """What the device can play: audio codecs, and for boards the screen size in pixels."""

    codecs: list[Codec] = msgspec.field(default_factory=list)
    screen_width: Pixels | None = None
    screen_height: Pixels | None = None


class DeviceIn(Schema):
    kind: DeviceKind
    area_code: AreaCode
    name: Name = ""
    hardware_id: HardwareId | None = None
    # The station group the device plays; the default group of the commune's station when omitted.
    group_id: uuid.UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capabilities: Capabilities = msgspec.field(default_factory=Capabilities)
    firmware: Annotated[str, msgspec.Meta(max_length=64)] = ""
    notes: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class DeviceOut(Schema):
    id: uuid.UUID
    kind: DeviceKind
    name: str
    hardware_id: str | None
    area_code: str
    area_path: str
    station_id: uuid.UUID | None
    group_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    capabilities: Capabilities
    firmware: str
    notes: str
    status: DeviceStatus
    claimed_at: datetime | None
    state: PresenceState
    state_since: datetime | None
    last_activity_at: datetime | None
    credential_version: int | None
    row_version: int
    created_at: datetime
    updated_at: datetime


class DeviceList(Schema):
    items: list[DeviceOut]
    next_cursor: str | None = None


class DeviceCredentials(Schema):
    """A device's MQTT / HTTP credentials. The password is shown this once and never again."""

    device_id: uuid.UUID
    username: str
    password: str
    version: int
    mqtt_topic_root: str


class ClaimCode(Schema):
    """A one-time claim code for a pre-registered device, shown this once."""

    device_id: uuid.UUID
    code: str
    expires_at: datetime


class ClaimIn(Schema):
    """What a device sends to claim its credentials: the code from its sheet and its hardware id."""

    code: Annotated[str, msgspec.Meta(min_length=4, max_length=32)]
    hardware_id: HardwareId


class RevokeResult(Schema):
    device_id: uuid.UUID
    revoked_credentials: int
    status: DeviceStatus


class ImportedDevice(Schema):
    row: int
    device_id: uuid.UUID
    name: str
    hardware_id: str | None
    area_code: str
    group_id: uuid.UUID | None
    claim_code: str | None = None
    claim_expires_at: datetime | None = None


class DeviceImportResult(Schema):
    created: int
    items: list[ImportedDevice]


class DevicePatch(Schema):
    """Changes to a device; ``row_version`` is the version the change was made on (stale: 409).
    Moving it to another area places it in that commune's default group unless a group is named."""

    row_version: int
    name: Name | None = None
    area_code: AreaCode | None = None
    group_id: uuid.UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capabilities: Capabilities | None = None
    firmware: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    notes: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
