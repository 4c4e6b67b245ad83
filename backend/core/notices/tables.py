"""Notices and their target areas.

Every version of a notice is its own row; ``thread_id`` ties the versions together and
``references_id`` points at the version it updates or cancels, as CAP's ``references`` does."""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Notice(Table, tablename="notice"):
    id = UUID(primary_key=True)
    thread_id = UUID(index=True)
    version = Integer(default=1)
    references_id = UUID(null=True, default=None)
    msg_type = Varchar(length=8, default="alert")
    status = Varchar(length=16, index=True)
    category = Varchar(length=32, index=True)
    priority = Varchar(length=16)
    owner_area = Varchar(length=32)
    owner_path = Varchar(length=512, index=True)
    texts = JSON(default={})
    attachments = JSON(default=[])
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    created_by = UUID()
    approved_by = UUID(null=True, default=None)
    published_by = UUID(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None, index=True)
    ended_at = Timestamptz(null=True, default=None)
    end_reason = Varchar(length=255, default="")
    # An emergency's plays and the seconds between them, as its approver chose (None: not an
    # emergency publication; the province settings apply).
    emergency_repeat = Integer(null=True, default=None)
    emergency_interval_s = Integer(null=True, default=None)
    row_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class NoticeTarget(Table, tablename="notice_target"):
    notice = ForeignKey(references=Notice, index=True)
    area_code = Varchar(length=32, index=True)
    area_path = Varchar(length=512, index=True)
