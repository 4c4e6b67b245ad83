"""Categories of essential information, configurable by admins."""

from piccolo.columns import Boolean, Integer, Text, Varchar
from piccolo.table import Table


class Category(Table, tablename="category"):
    code = Varchar(length=32, primary_key=True)
    name_vi = Varchar(length=255)
    name_en = Varchar(length=255, default="")
    description = Text(default="")
    active = Boolean(default=True)
    position = Integer(default=0)
