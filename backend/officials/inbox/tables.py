"""The staff inbox's one table. It keeps the name it was created with (``device_staff_notification``,
from when device alarms were its only entries): a rename would buy nothing but a migration."""

from piccolo.columns import UUID, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class StaffNotification(Table, tablename="device_staff_notification"):
    """A notification to one staff account (an inbox entry): a device alarm (``device_alarm``) or a
    notice the programme moved to a later session (``notice_moved``) or could not place before it
    expires (``notice_unplaced``). Title and body are in the account's language, written when the
    entry is. ``dedupe_key`` names the event and the account, so a retried fan-out or a
    recompilation notifies nobody twice; ``pushed`` counts the phones that were told."""

    id = BigSerial(primary_key=True)
    account_id = UUID(index=True)
    kind = Varchar(length=32, default="device_alarm")
    alarm_id = UUID(null=True, default=None)
    device_id = UUID(null=True, default=None)
    notice_id = UUID(null=True, default=None)
    station_id = UUID(null=True, default=None)
    session_at = Timestamptz(null=True, default=None)
    dedupe_key = Varchar(length=160, unique=True)
    title = Varchar(length=255)
    body = Text(default="")
    pushed = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
