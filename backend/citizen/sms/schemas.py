"""API contract for SMS opt-in, previews, statistics and gateway delivery receipts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9]{9,15}$")]
SmsNotices = Literal["emergency", "all"]
SmsEncodingChoice = Literal["auto", "ucs2", "gsm7"]


class SmsSubscriptionIn(Schema):
    """Opt in to SMS. ``phone`` defaults to the number given at registration; ``notices`` says
    whether only emergencies (the default) or every notice of the followed areas comes by SMS;
    ``encoding`` ``gsm7`` asks for texts without diacritics (for phones that cannot show them)."""

    phone: Phone | None = None
    notices: SmsNotices = "emergency"
    encoding: SmsEncodingChoice = "auto"


class SmsSubscriptionOut(Schema):
    phone: str
    notices: str
    encoding: str
    created_at: datetime
    updated_at: datetime


class SmsVariant(Schema):
    encoding: str
    text: str
    segments: int
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    cost: int  # đồng per recipient: segments × KENG_SMS_PRICE_PER_SEGMENT


class SmsPreview(Schema):
    """The SMS a notice makes, in both encodings; ``default_encoding`` is the server's default."""

    notice_id: uuid.UUID
    language: str
    default_encoding: str
    variants: list[SmsVariant]


class SmsEventStats(Schema):
    event: str
    targeted: int
    sent: int
    failed: int
    pending: int  # waiting, in flight or to be retried
    skipped: int  # never sent: validity ended, notice withdrawn or superseded
    delivered: int  # the gateway's delivery receipt said delivered
    undelivered: int
    segments: int  # segments of the messages sent
    cost: int  # đồng spent on the messages sent


class SmsStats(Schema):
    notice_id: uuid.UUID
    events: list[SmsEventStats]
    cost: int


class SmsReceiptIn(Schema):
    """A gateway's delivery report for one message: its id or the reference Kẻng sent."""

    status: Literal["delivered", "undelivered"]
    gateway_id: Annotated[str, msgspec.Meta(max_length=128)] = ""
    reference: Annotated[str, msgspec.Meta(max_length=128)] = ""


class SmsReceiptOut(Schema):
    matched: bool
