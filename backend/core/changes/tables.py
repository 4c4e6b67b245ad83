"""The change log that the sync cursor reads.

``seq`` comes from a single counter row incremented inside the writer's transaction. The row lock
is held until commit, so sequences are handed out in commit order and a rolled-back writer gives
its number back: readers never see a gap that later fills in."""

from piccolo.columns import UUID, BigInt, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ChangeCounter(Table, tablename="change_counter"):
    id = Integer(primary_key=True)
    value = BigInt(default=0)


class ChangeLog(Table, tablename="change_log"):
    seq = BigInt(primary_key=True)
    table_name = Varchar(length=48)
    row_id = Varchar(length=64, index=True)
    op = Varchar(length=8)
    actor_id = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class ChangeArea(Table, tablename="change_area"):
    seq = BigInt(index=True)
    area_path = Varchar(length=512, index=True)
