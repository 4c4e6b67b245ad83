"""CAP messages as sent: one row per CAP ``<alert>``, immutable once written.

Every change to a notice (first publication, update, cancellation, withdrawal) is a new row with a
new ``identifier``; the identifier is derived from the notice version and the event, and is unique,
so a retried outbox row finds its message already written instead of writing a second one."""

from piccolo.columns import UUID, BigInt, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CapMessage(Table, tablename="cap_message"):
    id = BigSerial(primary_key=True)
    identifier = Varchar(length=128, unique=True)
    sender = Varchar(length=255)
    sent = Timestamptz()
    msg_type = Varchar(length=8)
    status = Varchar(length=8, default="Actual")
    scope = Varchar(length=12, default="Public")
    notice_id = UUID(index=True)
    thread_id = UUID(index=True)
    event = Varchar(length=16)
    outbox_id = BigInt(null=True, default=None)
    references_text = Text(default="")
    headline = Varchar(length=255, default="")
    expires = Timestamptz()
    xml = Text()
    created_at = Timestamptz(default=TimestamptzNow())
