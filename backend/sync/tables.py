"""What the sync protocol keeps besides the synced rows themselves.

- ``sync_state``: one row; the server's ``epoch`` (a new one means "your history is gone, reset")
  and the tombstone ``floor`` (highest change sequence pruned past the horizon).
- ``sync_device``: one row per phone; ``last_seq`` is the highest per-device mutation sequence
  applied, written in the same transaction as the mutation's effect, so a retry is recognised.
- ``sync_mutation``: the ledger, one row per applied or rejected mutation with the answer given.
- ``sync_origin``: which device's mutation produced a change, so a pull does not echo a phone's
  own writes back to it.
- ``sync_conflict``: same-field conflicts, with every value involved, until an official resolves them.
- ``sync_scope``: the grants a scope token stands for, to compute removals when a scope changes.
- ``sync_blob``: content-addressed files (photos, recorded audio, signatures) and upload progress.
- ``sync_wire``: a synced row's fields encoded as the phones get them, with the version (change
  sequence) they were encoded at; a page takes the text as it is while the row is at that version."""

from piccolo.columns import JSON, UUID, BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SyncState(Table, tablename="sync_state"):
    id = Integer(primary_key=True)
    epoch = Varchar(length=32)
    floor = BigInt(default=0)


class SyncDevice(Table, tablename="sync_device"):
    id = Varchar(length=64, primary_key=True)
    account = UUID(index=True)
    last_seq = BigInt(default=0)
    protocol = Integer(default=2)
    scope_token = Varchar(length=32, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_sync_at = Timestamptz(default=TimestamptzNow())


class SyncMutation(Table, tablename="sync_mutation"):
    key = Varchar(length=96, primary_key=True)  # "<device>:<seq>"
    device_id = Varchar(length=64, index=True)
    seq = BigInt()
    account = UUID(null=True, default=None, index=True)
    table_name = Varchar(length=48)
    row_id = Varchar(length=64, index=True)
    op = Varchar(length=8)
    status = Varchar(length=12)
    answer = JSON(default={})
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SyncOrigin(Table, tablename="sync_origin"):
    seq = BigInt(primary_key=True)
    device_id = Varchar(length=64, index=True)


class SyncConflict(Table, tablename="sync_conflict"):
    id = UUID(primary_key=True)
    table_name = Varchar(length=48)
    row_id = Varchar(length=64, index=True)
    field = Varchar(length=64)
    rule = Varchar(length=16)
    # {"base": what the phone saw, "server": what the server had, "client": what the phone sent,
    #  "result": what the rule kept}
    values = JSON(default={})
    device_id = Varchar(length=64)
    seq = BigInt()
    account = UUID(null=True, default=None)
    area_paths = JSON(default=[])
    status = Varchar(length=12, default="open", index=True)
    resolution = Varchar(length=12, default="")
    resolved_by = UUID(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SyncScope(Table, tablename="sync_scope"):
    token = Varchar(length=32, primary_key=True)
    grants = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())


class SyncBlob(Table, tablename="sync_blob"):
    sha256 = Varchar(length=64, primary_key=True)
    size = BigInt()
    mime = Varchar(length=100, default="application/octet-stream")
    received = BigInt(default=0)
    complete = Boolean(default=False)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)


class SyncWire(Table, tablename="sync_wire"):
    key = Varchar(length=120, primary_key=True)  # "<table>:<row id>"
    version = BigInt()
    body = Text()
