"""Devices: the registry, their credentials and claim codes, presence history, alarms and commands.

A device's id is also its MQTT username and the level of its per-device topics. The station group
and station are plain UUID columns (no foreign key into broadcast's tables, as broadcast keeps none
into ours); the services validate them. Secrets are kept only as hashes: a credential's password
as scrypt (for the embedded broker and the HTTP fallback) and as Mosquitto's PBKDF2-SHA512 (for the
exported password file), both made when the password is issued, since neither can be derived from
the other later."""

from piccolo.columns import (
    JSON,
    UUID,
    BigSerial,
    Boolean,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Device(Table, tablename="device"):
    """A loudspeaker cluster, e-board or household receiver.

    ``status`` is the registry's view (``pending`` until claimed or given credentials, ``active``,
    ``retired``); ``state`` is presence (``unknown``, ``online``, ``offline``, ``playing``,
    ``error``). ``desired`` / ``reported`` hold the state the server wants and the one the device
    last said, each with a version; ``last_activity_at`` moves only with real traffic."""

    id = UUID(primary_key=True)
    kind = Varchar(length=12)
    name = Varchar(length=255, default="")
    hardware_id = Varchar(length=128, null=True, default=None, unique=True)
    area_code = Varchar(length=32, index=True)
    area_path = Varchar(length=512, index=True)
    station_id = UUID(null=True, default=None)
    group_id = UUID(null=True, default=None, index=True)
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    capabilities = JSON(default={})
    firmware = Varchar(length=64, default="")
    notes = Text(default="")
    status = Varchar(length=12, default="pending")
    claimed_at = Timestamptz(null=True, default=None)
    state = Varchar(length=12, default="unknown", index=True)
    state_since = Timestamptz(null=True, default=None)
    connected = Boolean(default=False)
    last_activity_at = Timestamptz(null=True, default=None)
    desired = JSON(default={})
    desired_version = Integer(default=0)
    reported = JSON(default={})
    reported_version = Integer(default=0)
    reported_at = Timestamptz(null=True, default=None)
    row_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DeviceCredential(Table, tablename="device_credential"):
    """One issued password of a device; issuing a new one (rotation) revokes the previous ones."""

    id = UUID(primary_key=True)
    device_id = UUID(index=True)
    version = Integer(default=1)
    password_hash = Varchar(length=255)
    broker_hash = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = UUID(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class DeviceClaim(Table, tablename="device_claim"):
    """A one-time claim code for a pre-registered device (only its sha256 is kept)."""

    id = UUID(primary_key=True)
    device_id = UUID(index=True)
    code_digest = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    used_by_hardware = Varchar(length=128, default="")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DeviceStateChange(Table, tablename="device_state_change"):
    """Presence history: one row per change of a device's state."""

    id = BigSerial(primary_key=True)
    device_id = UUID(index=True)
    state = Varchar(length=12)
    previous = Varchar(length=12, default="")
    reason = Varchar(length=255, default="")
    at = Timestamptz(index=True)


class DeviceAlarm(Table, tablename="device_alarm"):
    """An alarm of one type on one device. ``open_key`` is ``<device>:<type>`` while the alarm is
    open (active, or cleared but not yet acknowledged) and NULL after, so its unique index keeps
    one open alarm per type per device on both engines."""

    id = UUID(primary_key=True)
    device_id = UUID(index=True)
    type = Varchar(length=32)
    severity = Varchar(length=12)
    active = Boolean(default=True)
    acknowledged = Boolean(default=False)
    open_key = Varchar(length=80, null=True, default=None, unique=True)
    details = JSON(default={})
    occurrences = Integer(default=1)
    raised_at = Timestamptz()
    cleared_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = UUID(null=True, default=None)


class DeviceCommand(Table, tablename="device_command"):
    """A command to one device and its lifecycle: queued → sent → delivered → succeeded | failed |
    timed_out | expired. ``request_key`` makes a retried request create the command once."""

    id = UUID(primary_key=True)
    device_id = UUID(index=True)
    kind = Varchar(length=24)
    params = JSON(default={})
    status = Varchar(length=12, default="queued", index=True)
    persistent = Boolean(default=True)
    request_key = Varchar(length=80, null=True, default=None, unique=True)
    expires_at = Timestamptz()
    reply_deadline = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    result = JSON(default={})
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
