"""Contracts of proof of play and acknowledgements (the MQTT payloads of ``openapi/asyncapi.yaml``
and the HTTP fallback), and the staff views of coverage and emergency acknowledgements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.broadcast.log.schemas import PlayResult
from backend.lib.schema import Schema

SCHEMA = 1
ReportId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Version = Annotated[int, msgspec.Meta(ge=1)]


class ProofIn(msgspec.Struct, kw_only=True, frozen=True):
    """One item played (or not), as a device sends it. Unknown fields are ignored so a newer
    device firmware can add some; a higher ``schema`` is refused."""

    schema: Annotated[int, msgspec.Meta(ge=1, le=SCHEMA)] = SCHEMA
    report_id: ReportId
    manifest_id: uuid.UUID | None = None
    manifest_version: Version | None = None
    group_id: uuid.UUID | None = None
    item_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    notice_id: uuid.UUID | None = None
    notice_version: Version | None = None
    media_sha256: Annotated[str, msgspec.Meta(max_length=64)] = ""
    started_at: datetime
    ended_at: datetime
    result: PlayResult
    detail: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ProofBatchIn(Schema):
    """The HTTP fallback: reports a device could not send over MQTT, oldest first."""

    reports: Annotated[list[ProofIn], msgspec.Meta(min_length=1, max_length=200)]


class ProofBatchOut(Schema):
    recorded: int
    duplicates: int


class AckIn(msgspec.Struct, kw_only=True, frozen=True):
    schema: Annotated[int, msgspec.Meta(ge=1, le=SCHEMA)] = SCHEMA
    manifest_id: uuid.UUID | None = None
    scope: Annotated[str, msgspec.Meta(max_length=80)] = ""
    kind: Literal["audio", "eboard", "emergency", ""] = ""
    version: Version | None = None
    result: Literal["accepted", "rejected"]
    reason: Annotated[str, msgspec.Meta(max_length=64)] = ""
    at: datetime


class AckBatchIn(Schema):
    """The HTTP fallback: acknowledgements of manifests fetched from ``/api/v1/device/manifests``."""

    acks: Annotated[list[AckIn], msgspec.Meta(min_length=1, max_length=200)]


class AckBatchOut(Schema):
    recorded: int
    duplicates: int


class DeviceManifests(Schema):
    # Manifest kind (audio, eboard) → the signed envelope of the device's station group in force.
    group: dict[str, dict[str, Any]]
    # Emergency envelopes in force for any area on the device's path (oldest first).
    emergencies: list[dict[str, Any]]
    # Changes whenever any of the above does; the poll sends it back as If-None-Match.
    etag: str


class CoverageFigure(Schema):
    """Devices of one kind the notice targets, and how many reported playing (showing) it."""

    targeted: int
    confirmed: int
    missing: list[uuid.UUID]


class NoticeCoverage(Schema):
    notice_id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    clusters: CoverageFigure
    boards: CoverageFigure
    # Confirmed over targeted clusters and boards together, 0..1 (1 when nothing is targeted).
    ratio: float


class DeviceAck(Schema):
    device_id: uuid.UUID
    name: str
    kind: str
    area_code: str
    presence: str
    # accepted (this version), outdated (an older version), rejected, missing
    status: Literal["accepted", "outdated", "rejected", "missing"]
    version: int | None
    reason: str
    acked_at: datetime | None


class EmergencyAcks(Schema):
    thread_id: uuid.UUID
    notice_id: uuid.UUID
    version: int
    ended: bool
    targeted: int
    accepted: int
    missing: int
    devices: list[DeviceAck]
