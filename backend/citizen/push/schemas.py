"""API contract for push registration and delivery statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.devices.proof.schemas import NoticeCoverage
from backend.lib.schema import Schema

PushKind = Literal["webpush", "fcm"]


class WebPushKeys(Schema):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class WebPushSubscription(Schema):
    """What the browser's ``PushSubscription.toJSON()`` gives, as it gives it."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    keys: WebPushKeys
    expirationTime: int | None = None  # the browser's own field name: ms since the epoch


class PushRegistrationIn(Schema):
    """A device to push to: a Web Push ``subscription`` or an FCM ``token`` (exactly one)."""

    kind: PushKind
    subscription: WebPushSubscription | None = None
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)] | None = None
    device_id: Annotated[str, msgspec.Meta(max_length=128)] = ""
    language: Annotated[
        str, msgspec.Meta(min_length=2, max_length=8, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    ] = "vi"


class PushRegistrationOut(Schema):
    id: uuid.UUID
    kind: PushKind
    device_id: str
    language: str
    push_service: str  # the endpoint's origin for Web Push, "fcm" for FCM
    expires_at: datetime | None
    created_at: datetime


class PushRegistrationList(Schema):
    items: list[PushRegistrationOut]


class VapidPublicKey(Schema):
    public_key: str  # base64url uncompressed P-256 point: the browser's applicationServerKey


class ChannelStats(Schema):
    channel: PushKind
    event: str
    targeted: int
    sent: int
    failed: int
    pruned: int
    pending: int  # not yet sent: waiting, in flight or to be retried
    skipped: int  # never sent: validity ended, notice withdrawn or superseded, device unregistered
    opened: int  # of the devices this channel reached, accounts that opened the notice


class DeliveryStats(Schema):
    notice_id: uuid.UUID
    channels: list[ChannelStats]
    opened: int  # accounts that opened the notice in the app, however it reached them
    # Loudspeaker clusters and e-boards targeted versus confirmed by proof of play (staff who may
    # watch devices; null for others).
    devices: NoticeCoverage | None = None
