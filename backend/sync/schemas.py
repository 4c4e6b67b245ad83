"""API contract of the sync protocol (see ``openapi/sync-protocol.md``).

Wire keys are short on purpose: phones sync over 2G/3G and every change repeats them. Protocol 2 is
current; protocol 1 differs in its mutation shape (long keys, no per-field base values), and a phone
still running it keeps syncing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Schema

PROTOCOLS = (1, 2)
CURRENT_PROTOCOL = 2

DeviceId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
RowId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TableName = Annotated[str, msgspec.Meta(min_length=1, max_length=48)]
Seq = Annotated[int, msgspec.Meta(ge=1)]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


# --------------------------------------------------------------------------------------------------
# Blobs


class BlobIn(Schema):
    sha256: Sha256
    size: Annotated[int, msgspec.Meta(ge=0)]
    mime: Annotated[str, msgspec.Meta(min_length=3, max_length=100)] = "application/octet-stream"


class BlobOut(Schema):
    """``offset`` is where the next chunk starts; ``complete`` once the file is whole and verified."""

    sha256: str
    size: int
    mime: str
    offset: int
    complete: bool
    chunk_bytes: int
    url: str


# --------------------------------------------------------------------------------------------------
# The sync round trip


class MutationIn(Schema):
    """Protocol 2. ``op``: ``c`` create, ``u`` update, ``d`` delete. ``f`` the fields written (update:
    only those changed), ``b`` each changed field's value as the phone saw it before the change,
    ``v`` the row version the phone had (0 for a create)."""

    s: Seq
    t: TableName
    op: Literal["c", "u", "d"]
    id: RowId
    v: Annotated[int, msgspec.Meta(ge=0)] = 0
    f: dict[str, Any] = {}
    b: dict[str, Any] = {}


class MutationV1(Schema):
    """Protocol 1 (previous phones): the whole row's base version only, no per-field base values."""

    seq: Seq
    table: TableName
    op: Literal["insert", "update", "delete"]
    id: RowId
    base_version: Annotated[int, msgspec.Meta(ge=0)] = 0
    data: dict[str, Any] = {}


class SyncIn(Schema):
    """One round trip: push ``mutations`` (in ``s`` order) and pull what changed after ``cursor``.

    ``epoch``/``cursor``/``tag`` are what the previous answer gave (null/0/"" on a new phone).
    ``scope`` is the scope token the phone's rows belong to; ``scan`` continues a snapshot or a scope
    change; ``wide`` is set while a scope change's transition window lasts. ``max_bytes`` bounds the
    page (uncompressed). ``digest`` asks for per-table count + checksum on the last page."""

    protocol: int
    device: DeviceId
    epoch: str | None = None
    cursor: Annotated[int, msgspec.Meta(ge=0)] = 0
    tag: str = ""
    scope: str | None = None
    scan: str | None = None
    wide: str | None = None
    mutations: list[Any] = []
    max_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 65536
    digest: bool = False


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


class AckOut(Schema, omit_defaults=True):
    """``st``: ``ok`` applied (now or earlier), ``rej`` rejected for good (``err`` says why; the
    phone drops it and shows it). ``v`` the row's version after it; ``fix`` fields whose server value
    differs from what the phone wrote or computed (set by the server, or kept by a merge rule);
    ``cf`` conflict ids recorded."""

    s: int
    st: Literal["ok", "rej"]
    t: str = ""
    id: str = ""
    v: int = 0
    fix: dict[str, Any] = {}
    cf: list[str] = []
    err: ErrorOut | None = None
    dup: bool = False


class ChangeOut(Schema, omit_defaults=True):
    """A row as it is now (``f``: all its fields; absent ones are null), or its removal (``del``:
    deleted, or no longer in the phone's scope)."""

    t: str
    id: str
    v: int = 0
    f: dict[str, Any] | None = None
    rm: bool = False


class ScanOut(Schema):
    kind: Literal["snapshot", "delta"]
    token: str
    done: bool


class DigestOut(Schema):
    n: int
    x: str


class ResetOut(Schema):
    reason: Literal["horizon", "epoch", "scope"]


class SyncOut(Schema, omit_defaults=True):
    """One checkpoint: the phone applies all of it in one local transaction, or none of it.

    ``device_seq`` is the last mutation sequence the server applied for this device; ``gap`` means a
    mutation was missing before the first one sent (resend from ``device_seq + 1``). After ``reset``
    the phone replaces its rows with a fresh snapshot, keeping its unsent mutations."""

    protocol: int
    epoch: str
    device_seq: int
    cursor: int
    tag: str = ""
    more: bool = False
    acks: list[AckOut] = []
    gap: bool = False
    changes: list[ChangeOut] = []  # filled with each change already encoded (msgspec.Raw) by pages
    scope: str | None = None
    scan: ScanOut | None = None
    wide: str | None = None
    digest: dict[str, DigestOut] | None = None
    reset: ResetOut | None = None
    supported: list[int] = msgspec.field(default_factory=lambda: list(PROTOCOLS))


class RepairIn(Schema):
    """The phone's per-bucket digests of one table (bucket = first byte of the row hash % 64)."""

    device: DeviceId
    t: TableName
    buckets: dict[str, DigestOut]


class RepairOut(Schema):
    """For each bucket that differs: the server's ``[id, version]`` pairs in it."""

    t: str
    rows: dict[str, list[tuple[str, int]]]


class FetchIn(Schema):
    device: DeviceId
    t: TableName
    ids: Annotated[list[RowId], msgspec.Meta(max_length=1000)]


class FetchOut(Schema):
    changes: list[ChangeOut]


# --------------------------------------------------------------------------------------------------
# Conflicts for officials (web console and phone alike)


class ConflictOut(Schema):
    id: str
    table: str
    row_id: str
    field: str
    rule: str
    base: Any
    server: Any
    client: Any
    result: Any
    device_id: str
    seq: int
    account: str | None
    status: str
    resolution: str
    created_at: datetime
    resolved_at: datetime | None


class ConflictList(Schema):
    items: list[ConflictOut]


class ResolveIn(Schema):
    """``keep``: the value the rule chose stays. ``restore``: the value that lost is written back."""

    resolution: Literal["keep", "restore"]
