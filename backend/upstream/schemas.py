"""The exchange format between a Kẻng instance and its upstream, and the staff API around it.

Notices travel as JSON with every field a Kẻng notice has (CAP 1.2 loses the category code, the
summary and the exact targets), under the upstream's own ids, thread and version, with the CAP
identifier of the same message so CAP consumers can match them. Reports travel as a signed
envelope — the same form as device manifests: ``{"schema", "alg", "kid", "payload", "sig"}`` with
an Ed25519 signature over the payload bytes by the downstream province key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.core.notices.schemas import Attachment, NoticeText
from backend.lib.schema import Schema

AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Period = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
B64 = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+$", max_length=2_000_000)]


# --- notices ----------------------------------------------------------------------------------------


class ExchangeNotice(Schema):
    """One notice version as the upstream holds it now (status tells what became of it)."""

    id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    references_id: uuid.UUID | None
    msg_type: Literal["alert", "update", "cancel"]
    status: Literal["published", "withdrawn", "superseded", "expired"]
    category: str
    priority: Literal["normal", "priority", "emergency"]
    texts: dict[str, NoticeText]
    target_areas: list[str]
    attachments: list[Attachment]
    valid_from: datetime | None
    valid_until: datetime | None
    published_at: datetime
    ended_at: datetime | None
    end_reason: str
    cap_identifier: str  # the CAP <identifier> of this version's publication
    cap_url: str  # where that CAP message is served (relative to the upstream's base URL)
    seq: int  # the upstream's change sequence this state was read at


class ExchangeSource(Schema):
    sender: str  # CAP <sender> of the upstream
    province: str


class ExchangePage(Schema):
    """Pass ``cursor`` as ``since`` next time; ``more`` means call again right away."""

    source: ExchangeSource
    items: list[ExchangeNotice]
    cursor: str
    more: bool


# --- reports ----------------------------------------------------------------------------------------


class SignedEnvelope(Schema):
    schema: Literal[1]
    alg: Literal["Ed25519"]
    kid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    payload: B64
    sig: B64


class ReportFigures(msgspec.Struct, kw_only=True):
    """The statistics of one period: devices, notices by channel, feedback handling."""

    devices: dict[str, Any]
    notices: dict[str, Any]
    sms: dict[str, int]
    feedback: dict[str, Any]


class ReportPayload(msgspec.Struct, kw_only=True):
    schema: Literal[1] = 1
    province_code: str
    period: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    figures: ReportFigures


class ReportReceipt(Schema):
    status: Literal["accepted", "duplicate", "replaced", "stale"]
    province_code: str
    period: str


class PublicKeyIn(Schema):
    kid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    public_key: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$")]  # base64url, 32 bytes
    alg: Literal["Ed25519"] = "Ed25519"


class DownstreamIn(Schema):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    keys: Annotated[list[PublicKeyIn], msgspec.Meta(min_length=1, max_length=10)]


class DownstreamOut(Schema):
    province_code: str
    name: str
    keys: list[PublicKeyIn]
    created_at: datetime
    updated_at: datetime


class DownstreamReportOut(Schema):
    province_code: str
    period: str
    generated_at: datetime
    received_at: datetime
    kid: str
    payload: dict[str, Any]


class DownstreamReportList(Schema):
    items: list[DownstreamReportOut]


# --- the downstream's staff API ---------------------------------------------------------------------


class UpstreamNoticeOut(Schema):
    id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    references_id: uuid.UUID | None
    msg_type: str
    status: str
    category: str
    priority: str
    texts: dict[str, NoticeText]
    target_areas: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    published_at: datetime | None
    ended_at: datetime | None
    cap_identifier: str
    sender: str  # the upstream's CAP sender: with cap_identifier, the message's identity
    adoption: str
    local_notice_id: uuid.UUID | None
    adopted_at: datetime | None
    received_at: datetime


class UpstreamNoticeList(Schema):
    items: list[UpstreamNoticeOut]


class AdoptIn(Schema):
    """Adopt an upstream notice as a local one. ``target_areas`` default: the upstream's targets
    inside this province (the province itself when they are wider). ``publish`` also approves and
    publishes it at once (the approver's own steps, each audited); otherwise it waits, submitted."""

    target_areas: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=500)] | None = None
    publish: bool = False


class UpstreamStatus(Schema):
    url: str
    cursor: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    failures: int
    notices: int
    reports_pending: int
    reports_accepted: int
    last_report_period: str | None
