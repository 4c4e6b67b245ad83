"""Read receipts: one row per citizen and notice the first time the phone opens it."""

from piccolo.columns import UUID, ForeignKey, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.accounts.tables import Account
from backend.core.notices.tables import Notice


class ReadReceipt(Table, tablename="read_receipt"):
    id = UUID(primary_key=True)
    notice = ForeignKey(references=Notice, index=True)
    account = ForeignKey(references=Account, index=True)
    opened_at = Timestamptz(default=TimestamptzNow())
