"""Commands: what staff send, what devices receive and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Schema

CommandKind = Literal[
    "play_now", "stop", "set_volume", "reboot", "refresh_manifest", "relay_start", "relay_stop"
]
CommandStatus = Literal["queued", "sent", "delivered", "succeeded", "failed", "timed_out", "expired"]
ReplyStatus = Literal["delivered", "succeeded", "failed"]
TERMINAL = ("succeeded", "failed", "timed_out", "expired")
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Url = Annotated[str, msgspec.Meta(pattern=r"^(https?|rtsp|rtmp|icecast)://\S+$", max_length=2000)]


class PlayNow(Schema):
    """Play one file now (by the sha256 devices download media with), or a notice's audio."""

    media_sha256: Sha256 | None = None
    notice_id: uuid.UUID | None = None
    repeat: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


class SetVolume(Schema):
    volume: Annotated[int, msgspec.Meta(ge=0, le=100)]


class RelayStart(Schema):
    url: Url


class NoParams(Schema):
    pass


PARAMS: dict[str, type[Schema]] = {
    "play_now": PlayNow,
    "stop": NoParams,
    "set_volume": SetVolume,
    "reboot": NoParams,
    "refresh_manifest": NoParams,
    "relay_start": RelayStart,
    "relay_stop": NoParams,
}


class CommandIn(Schema):
    kind: CommandKind
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    # Persistent commands wait for an offline device until they expire; others are sent at once
    # and time out if the device does not answer.
    persistent: bool = True
    ttl_seconds: Annotated[int, msgspec.Meta(ge=10, le=7 * 86400)] | None = None
    # A client's key for this request: sending it again returns the command already made.
    request_key: Annotated[str, msgspec.Meta(min_length=8, max_length=80)] | None = None


class CommandOut(Schema):
    id: uuid.UUID
    device_id: uuid.UUID
    kind: CommandKind
    params: dict[str, Any]
    status: CommandStatus
    persistent: bool
    expires_at: datetime
    reply_deadline: datetime | None
    attempts: int
    result: dict[str, Any]
    created_by: uuid.UUID | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    finished_at: datetime | None


class CommandList(Schema):
    items: list[CommandOut]


class CommandMessage(msgspec.Struct, kw_only=True):
    """What a device receives on its ``commands`` topic (or from the HTTP fallback)."""

    schema: int = 1
    id: uuid.UUID
    kind: str
    params: dict[str, Any]
    expires_at: datetime


class CommandReply(msgspec.Struct, kw_only=True):
    """A device's answer on ``replies``, correlated by the command's id."""

    schema: int = 1
    id: uuid.UUID
    status: ReplyStatus
    result: dict[str, Any] = msgspec.field(default_factory=dict)


class PendingCommands(Schema):
    items: list[CommandMessage]
