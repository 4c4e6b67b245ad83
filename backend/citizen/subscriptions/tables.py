"""A citizen follows areas; categories narrow what they get, except emergencies which always come."""

from piccolo.columns import JSON, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.accounts.tables import Account


class Subscription(Table, tablename="subscription"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    area_code = Varchar(length=32)
    area_path = Varchar(length=512, index=True)
    categories = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
