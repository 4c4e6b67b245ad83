"""Stations, station groups, week schedules, programme items, planned sessions, signed manifests,
media and the broadcast log ("nhật ký").

No foreign key points at another stream's tables (devices, sync): device ids and blob hashes are
plain columns, validated by the services. Inside the broadcast domain ids are plain UUID columns
too, so a station's rows can be read in one query each without joins."""

from piccolo.columns import JSON, UUID, BigSerial, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Station(Table, tablename="broadcast_station"):
    """A commune's radio station and its local rules (windows, maxima, days, quiet hours, relays,
    neighbours, voice). ``rules_version`` grows with every change of the rules."""

    id = UUID(primary_key=True)
    area_code = Varchar(length=32, unique=True)
    area_path = Varchar(length=512, index=True)
    name = Varchar(length=255)
    setting = Varchar(length=8, default="rural")
    rules = JSON(default={})
    rules_version = Integer(default=1)
    row_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StationGroup(Table, tablename="broadcast_group"):
    """Clusters of one station that play the same content (e.g. one village); every station has a
    default group covering the whole commune."""

    id = UUID(primary_key=True)
    station_id = UUID(index=True)
    name = Varchar(length=255)
    area_codes = JSON(default=[])
    is_default = Boolean(default=False)
    near_border = Boolean(default=False)
    eboard = JSON(default={})
    row_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ScheduleVersion(Table, tablename="broadcast_schedule"):
    """One saved version of a station's week schedule; the highest version is in force."""

    id = BigSerial(primary_key=True)
    station_id = UUID(index=True)
    version = Integer(default=1)
    sessions = JSON(default=[])
    note = Text(default="")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProgrammeItem(Table, tablename="broadcast_item"):
    """What a commune chose to broadcast: a notice thread, a recorded file, a relay of the upper
    level, or a public answer to citizen feedback; ``position`` is the commune's order."""

    id = UUID(primary_key=True)
    station_id = UUID(index=True)
    kind = Varchar(length=16)
    notice_thread_id = UUID(null=True, default=None, index=True)
    media_sha256 = Varchar(length=64, default="")
    relay_url = Varchar(length=2000, default="")
    title = Varchar(length=255, default="")
    duration_ms = Integer(default=0)
    position = Integer(default=0)
    plays = Integer(default=1)
    group_ids = JSON(default=[])
    eboard_priority = Integer(default=0)
    daypart = Varchar(length=32, default="")
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="active")
    source_ref = Varchar(length=64, default="")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PlannedSession(Table, tablename="broadcast_session"):
    """A compiled session of one group: what is planned to play, item by item (``entries``)."""

    id = UUID(primary_key=True)
    station_id = UUID(index=True)
    group_id = UUID(index=True)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    schedule_version = Integer(default=0)
    entries = JSON(default=[])
    planned_ms = Integer(default=0)
    manifest_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Manifest(Table, tablename="broadcast_manifest"):
    """A signed manifest as sent. ``scope`` is ``group:<id>:<kind>`` or ``emergency:<thread id>``;
    ``version`` grows per scope. ``envelope`` holds the exact signed bytes devices receive."""

    id = UUID(primary_key=True)
    scope = Varchar(length=80, index=True)
    kind = Varchar(length=12)
    station_id = UUID(null=True, default=None)
    group_id = UUID(null=True, default=None, index=True)
    thread_id = UUID(null=True, default=None, index=True)
    version = Integer(default=1)
    area_codes = JSON(default=[])
    notice_ids = JSON(default=[])
    content_hash = Varchar(length=64, default="")
    envelope = Text()
    issued_at = Timestamptz(default=TimestamptzNow())
    valid_from = Timestamptz()
    valid_until = Timestamptz(index=True)
    ended = Boolean(default=False)
    current = Boolean(default=True)
    published_at = Timestamptz(null=True, default=None)


class Media(Table, tablename="broadcast_media"):
    """A file devices download, content-addressed by sha256. ``render_key`` is the hash of what was
    rendered (text, voice, speed, parts), so the same render is never made twice."""

    sha256 = Varchar(length=64, primary_key=True)
    render_key = Varchar(length=64, default="", index=True)
    kind = Varchar(length=16)
    mime = Varchar(length=64)
    size = Integer(default=0)
    duration_ms = Integer(default=0)
    filename = Varchar(length=128)
    created_at = Timestamptz(default=TimestamptzNow())


class PlayRecord(Table, tablename="broadcast_play"):
    """The broadcast log: proof of play from devices and manual entries by officials.
    ``(device_id, report_id)`` is unique, so a report sent twice is stored once."""

    id = BigSerial(primary_key=True)
    station_id = UUID(null=True, default=None, index=True)
    group_id = UUID(null=True, default=None, index=True)
    device_id = Varchar(length=64)
    report_id = Varchar(length=64)
    source = Varchar(length=8, default="device")
    manifest_id = UUID(null=True, default=None)
    manifest_kind = Varchar(length=12, default="")
    session_id = UUID(null=True, default=None, index=True)
    item_id = Varchar(length=64, default="")
    notice_id = UUID(null=True, default=None, index=True)
    media_sha256 = Varchar(length=64, default="")
    started_at = Timestamptz(index=True)
    ended_at = Timestamptz()
    result = Varchar(length=12)
    detail = Text(default="")
    recorded_by = UUID(null=True, default=None)
    recorded_at = Timestamptz(default=TimestamptzNow())


class Emergency(Table, tablename="broadcast_emergency"):
    """An emergency thread's override state: its targets, repeats, and when it ended."""

    thread_id = UUID(primary_key=True)
    notice_id = UUID()
    version = Integer(default=1)
    area_codes = JSON(default=[])
    repeat = Integer(default=3)
    interval_s = Integer(default=300)
    started_at = Timestamptz()
    ends_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)


class CompiledPlan(Table, tablename="broadcast_plan"):
    """The last compilation of a station's coming sessions: what was moved to a later session
    because a session was full, and what could not be placed before it expires."""

    station_id = UUID(primary_key=True)
    compiled_at = Timestamptz()
    horizon_start = Timestamptz()
    horizon_end = Timestamptz()
    schedule_version = Integer(default=0)
    rules_version = Integer(default=0)
    moved = JSON(default=[])
    unplaced = JSON(default=[])
