"""API contract for stations, their rules and their groups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema

HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Weekday = Annotated[int, msgspec.Meta(ge=0, le=6)]  # 0 = Monday … 6 = Sunday
Setting = Literal["urban", "rural"]
Voice = Literal["vi", "vi-vn-x-central", "vi-vn-x-south"]
AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]

# Hà Nội decision 5133/QĐ-UBND: at most 15 minutes a session in urban wards, 45 in rural communes,
# relays of the upper level included.
MAX_MINUTES = {"urban": 15, "rural": 45}


class Window(Schema):
    """A time range in Vietnam time; ``end`` before ``start`` runs past midnight (quiet hours)."""

    start: HHMM
    end: HHMM


class Relay(Schema):
    """A programme of the upper level (province or national radio) the station relays."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    url: Annotated[str, msgspec.Meta(pattern=r"^(https?|rtsp|rtmp|icecast)://\S+$", max_length=2000)]
    minutes: Annotated[int, msgspec.Meta(ge=1, le=45)] = 10


class Daypart(Schema):
    """A named part of the day for e-board playlists (as Xibo dayparts)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    start: HHMM
    end: HHMM


def _default_windows() -> list[Window]:
    return [Window(start="05:30", end="06:15"), Window(start="17:00", end="17:45")]


class StationRules(Schema):
    """A commune's own broadcast rules; emergencies ignore all of them."""

    windows: Annotated[list[Window], msgspec.Meta(min_length=1, max_length=8)] = msgspec.field(
        default_factory=_default_windows
    )
    max_minutes: Annotated[int, msgspec.Meta(ge=1, le=180)] | None = None
    days: Annotated[list[Weekday], msgspec.Meta(max_length=7)] = msgspec.field(
        default_factory=lambda: [0, 1, 2, 3, 4]
    )
    weekend_allowed: bool = False
    quiet_hours: Annotated[list[Window], msgspec.Meta(max_length=4)] = msgspec.field(
        default_factory=lambda: [Window(start="21:00", end="05:00")]
    )
    relays: Annotated[list[Relay], msgspec.Meta(max_length=10)] = []
    neighbours: Annotated[list[AreaCode], msgspec.Meta(max_length=30)] = []
    voice: Voice = "vi"
    speed: Annotated[int, msgspec.Meta(ge=80, le=300)] = 150
    intro_text: Annotated[str, msgspec.Meta(max_length=500)] = ""
    outro_text: Annotated[str, msgspec.Meta(max_length=500)] = ""
    pause_ms: Annotated[int, msgspec.Meta(ge=0, le=5000)] = 800
    dayparts: Annotated[list[Daypart], msgspec.Meta(max_length=12)] = []


class StationIn(Schema):
    area_code: AreaCode
    name: Name | None = None
    setting: Setting = "rural"
    rules: StationRules | None = None


class StationPatch(Schema):
    row_version: int
    name: Name | None = None
    setting: Setting | None = None
    rules: StationRules | None = None


class StationOut(Schema):
    id: uuid.UUID
    area_code: str
    area_path: str
    name: str
    setting: str
    rules: StationRules
    max_minutes: int
    rules_version: int
    row_version: int
    default_group_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class StationList(Schema):
    items: list[StationOut]


class Resolution(Schema):
    width: Annotated[int, msgspec.Meta(ge=16, le=7680)]
    height: Annotated[int, msgspec.Meta(ge=8, le=4320)]


class EboardSettings(Schema):
    """The boards of a group: their screen sizes (slides are laid out for each) and the default
    loop shown when nothing else is active."""

    resolutions: Annotated[list[Resolution], msgspec.Meta(max_length=8)] = msgspec.field(
        default_factory=lambda: [Resolution(width=1920, height=1080)]
    )
    default_loop: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=500)]], msgspec.Meta(max_length=20)
    ] = []
    slide_seconds: Annotated[int, msgspec.Meta(ge=3, le=600)] = 15


class GroupIn(Schema):
    name: Name
    area_codes: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=200)]
    near_border: bool = False
    eboard: EboardSettings | None = None


class GroupPatch(Schema):
    row_version: int
    name: Name | None = None
    area_codes: Annotated[list[AreaCode], msgspec.Meta(min_length=1, max_length=200)] | None = None
    near_border: bool | None = None
    eboard: EboardSettings | None = None


class GroupOut(Schema):
    id: uuid.UUID
    station_id: uuid.UUID
    name: str
    area_codes: list[str]
    is_default: bool
    near_border: bool
    eboard: EboardSettings
    row_version: int
    created_at: datetime
    updated_at: datetime


class GroupList(Schema):
    items: list[GroupOut]


class ProvinceKey(Schema):
    kid: str
    alg: str
    public_key: str
