"""SMS opt-ins (one per citizen account) and per-recipient SMS deliveries of a notice.

A delivery row exists once per (notice, event, phone): the channel plans the rows in one
transaction and then sends row by row, recording each outcome, so a crash or a retry sends only
what is not yet recorded, and two accounts sharing a phone number get one message."""

from piccolo.columns import UUID, BigSerial, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.accounts.tables import Account
from backend.core.notices.tables import Notice


class SmsSubscription(Table, tablename="sms_subscription"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, unique=True)
    phone = Varchar(length=32, index=True)
    notices = Varchar(length=16, default="emergency")  # emergency | all
    encoding = Varchar(length=8, default="auto")  # auto (the server's default) | ucs2 | gsm7
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SmsDelivery(Table, tablename="sms_delivery"):
    id = BigSerial(primary_key=True)
    notice = ForeignKey(references=Notice)
    event = Varchar(length=16)  # published | withdrawn
    account = UUID()
    phone = Varchar(length=32)
    language = Varchar(length=8, default="vi")
    encoding = Varchar(length=8, default="ucs2")
    status = Varchar(length=12, default="pending")
    attempts = Integer(default=0)
    segments = Integer(default=0)
    cost = Integer(default=0)
    http_status = Integer(null=True, default=None)
    gateway_id = Varchar(length=128, default="")
    error = Varchar(length=255, default="")
    receipt = Varchar(length=16, default="")  # delivered | undelivered, from the gateway's receipt
    receipt_at = Timestamptz(null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
