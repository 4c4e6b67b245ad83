"""The administrative tree. ``path`` is a materialised path of codes (``/VN/38/16000/``) so subtree
membership — checked on every authorisation — is a string prefix test, in SQL and in Python."""

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Area(Table, tablename="area"):
    code = Varchar(length=32, primary_key=True)
    name = Varchar(length=255)
    name_folded = Varchar(length=255, index=True)
    level = Varchar(length=16)
    division_type = Varchar(length=64, default="")
    parent_code = Varchar(length=32, null=True, default=None, index=True)
    path = Varchar(length=512, index=True)
    depth = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())
