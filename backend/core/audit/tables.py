"""The append-only audit log of privileged actions."""

from piccolo.columns import JSON, UUID, BigSerial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = UUID(null=True, default=None, index=True)
    actor_role = Varchar(length=32, default="")
    actor_area = Varchar(length=32, default="")
    action = Varchar(length=64, index=True)
    target_type = Varchar(length=32, default="")
    target_id = Varchar(length=64, default="", index=True)
    client_addr = Varchar(length=64, default="")
    request_id = Varchar(length=64, default="")
    details = JSON(default={})
