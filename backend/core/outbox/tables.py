"""The transactional outbox: work for channels, written in the same transaction as its cause."""

from piccolo.columns import JSON, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxMessage(Table, tablename="outbox_message"):
    id = BigSerial(primary_key=True)
    channel = Varchar(length=16, index=True)
    event = Varchar(length=32)
    aggregate_id = Varchar(length=64, default="", index=True)
    payload = JSON(default={})
    status = Varchar(length=8, default="pending", index=True)
    precedence = Integer(default=5)  # lower is claimed first: URGENT (emergencies) or NORMAL
    attempts = Integer(default=0)
    available_at = Timestamptz(default=TimestamptzNow())
    lease_owner = Varchar(length=64, null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None)
