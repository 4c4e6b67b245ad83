"""Push registrations (one per device and push service) and per-device deliveries of a notice.

A delivery row exists once per (notice, event, registration): the fan-out plans them in one
transaction, claims them page by page and records each outcome, so a crash resumes with what was
not yet sent and a device already recorded as sent never gets the same message again."""

from piccolo.columns import UUID, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.accounts.tables import Account
from backend.core.notices.tables import Notice


class PushRegistration(Table, tablename="push_registration"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    kind = Varchar(length=8)  # webpush | fcm
    endpoint = Text()  # the Web Push endpoint URL, or the FCM registration token
    endpoint_key = Varchar(length=64, unique=True)  # sha256 of kind + endpoint
    p256dh = Varchar(length=128, default="")
    auth = Varchar(length=64, default="")
    device_id = Varchar(length=128, default="")
    language = Varchar(length=8, default="vi")
    expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    pruned_at = Timestamptz(null=True, default=None)
    pruned_reason = Varchar(length=255, default="")


class PushDelivery(Table, tablename="push_delivery"):
    id = BigSerial(primary_key=True)
    notice = ForeignKey(references=Notice)
    event = Varchar(length=16)  # published | withdrawn
    registration = ForeignKey(references=PushRegistration)
    channel = Varchar(length=8)  # webpush | fcm
    status = Varchar(length=12, default="pending")
    attempts = Integer(default=0)
    http_status = Integer(null=True, default=None)
    error = Varchar(length=255, default="")
    claimed_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
