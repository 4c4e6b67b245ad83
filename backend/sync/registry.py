"""How a domain puts one of its tables on officials' phones.

A domain describes its table once — how rows load and look on the wire, which officials see a row
(scope), which fields a phone may write and how a same-field conflict is settled, and what writing
means (its own validation and side effects) — and registers it in ``backend/synced.py``. The sync
engine does the rest: cursors, paging, idempotency, merges, conflicts, tombstones, scope changes,
integrity checks. Sync never imports a domain; domains import this module.

Contract for writers: every write to a synced row records a change with
``backend.core.changes.record_change(s)`` in the same transaction, naming every area path the row
belonged to before *and* after the write. The engine relies on it for cursors, row versions (a row's
version is the sequence of its last change) and for sending removals when a row leaves a scope.

The smallest registration, for a table with an id and an area-path column (see
:class:`backend.sync.source.TableSource`)::

    def register(registry: Registry) -> None:
        registry.add(TableSource(BroadcastLog, name="broadcast_log", id=BroadcastLog.id,
                                 path=BroadcastLog.area_path, columns={"note": BroadcastLog.note},
                                 permission=Permission.NOTICE_READ, fields={"note": Field()},
                                 schema=BroadcastLogFields, write_permission=Permission.NOTICE_EDIT,
                                 path_of=station_path).synced())
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from backend.core.accounts.permissions import Actor, Permission, within
from backend.lib.errors import DomainError

if TYPE_CHECKING:
    from backend.runtime import Runtime

Rule = Literal["client_wins", "server_wins", "max", "union", "merge_keys"]
RULES: tuple[Rule, ...] = ("client_wins", "server_wins", "max", "union", "merge_keys")


@dataclass(frozen=True)
class Field:
    """A field a phone may write, and what happens when the server's value changed too.

    - ``client_wins``: the phone's value is applied; the value it replaced is kept in the conflict.
    - ``server_wins``: the server's value stays; the phone's value is kept in the conflict.
    - ``max``: the higher of the two in ``order`` (lowest first), e.g. a notice's priority.
    - ``union``: lists merge three-way — what either side added stays, what either removed goes.
    - ``merge_keys``: objects merge key by key; a key both sides changed goes to the phone.
    ``create_only`` fields are accepted when the row is created and refused afterwards."""

    rule: Rule = "client_wins"
    order: tuple[str, ...] = ()
    create_only: bool = False

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown merge rule {self.rule!r}")
        if self.rule == "max" and not self.order:
            raise ValueError("the max rule needs an order")


@dataclass
class Row:
    """One synced row: its wire fields, the area paths it belongs to, and its version.

    A row loaded for a page (``load_encoded``) may come with ``encoded`` — its fields as JSON text,
    as the phones get them — and then ``data`` may be empty; ``fresh`` says the encoding was made
    now and is worth keeping (see :mod:`backend.sync.wire`)."""

    id: str
    data: dict[str, Any]
    paths: tuple[str, ...]
    version: int = 0
    raw: Any = None  # the domain's own view of the row (a table row, say), for its write hooks
    encoded: str | None = None
    fresh: bool = False
    framed: bytes | None = None  # the whole change as it goes out, for the actor it was loaded for


@dataclass
class Context:
    """One push: who writes, from which device, and a cache the write hooks may fill per push."""

    rt: Runtime
    actor: Actor
    device_id: str
    seq: int = 0
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def audit_details(self) -> dict[str, Any]:
        return {"via": "sync", "device": self.device_id, "seq": self.seq}


Load = Callable[["Runtime", Sequence[str]], Awaitable[dict[str, Row]]]
LoadFor = Callable[["Runtime", Actor, Sequence[str]], Awaitable[dict[str, Row]]]
IdsInScope = Callable[["Runtime", Actor], Awaitable[list[str]]]
FramedInScope = Callable[["Runtime", Actor, int], Awaitable[list[tuple[str, bytes | None]] | None]]
Visible = Callable[[Actor, Row], bool]
Create = Callable[[Context, str, dict[str, Any]], Awaitable[None]]
CreateMany = Callable[[Context, list[tuple[int, str, dict[str, Any]]]], Awaitable[list[DomainError | None]]]
Update = Callable[[Context, Row, dict[str, Any]], Awaitable[None]]
Delete = Callable[[Context, Row], Awaitable[None]]
IdCheck = Callable[[str], bool]


def uuid_id(value: str) -> bool:
    """Row ids made on the phone are UUIDs in canonical text form."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def any_id(value: str) -> bool:
    return 0 < len(value) <= 64


@dataclass(frozen=True)
class SyncedTable:
    """One table on the phones.

    ``permission`` names the grants that make up the scope (None: any grant the account holds).
    With ``ancestors`` a row placed on an area *above* a grant is visible too (a province-wide
    notice reaches a commune official). ``load`` returns rows by id (missing ids = deleted);
    ``ids_in_scope`` lists exactly the ids ``visible`` accepts, for snapshots and integrity checks.
    ``load_versioned``, when given, is ``load`` that also sets each row's version (the sequence of its
    last change) in the same statement: a snapshot then costs one query per chunk, not two.
    ``load_encoded``, when given, loads rows for one actor's pages only (never for writes): each
    with its version and ``encoded`` set, taking kept encodings (:mod:`backend.sync.wire`) where
    they are current — ``data`` is then empty and ``raw`` holds only what ``visible`` needs — or
    with ``framed`` set: the whole change as it goes out, for a row the actor may see.
    ``framed_in_scope``, when given with ``shared``, answers a first login's listing in one go:
    the ids ``ids_in_scope`` lists, in order, each with its change framed as ``load_encoded`` frames
    it (None: to be loaded) — or None above the given number of rows.
    ``shared`` says which rows an actor sees, and how they look on the wire, follow from the actor's
    grants alone — never from the account — so the phones of every account with the same grants
    may be sent the same encoded snapshot pages (:mod:`backend.sync.scans`); leave it off for a
    table with rows of one account (training completions, conflicts).
    Without ``create``/``update``/``delete`` the table is read-only on phones. Write hooks raise
    :class:`~backend.lib.errors.DomainError` for a mutation that can never succeed; the engine
    rolls back what the hook wrote and answers the phone "rejected" with that error."""

    name: str
    load: Load
    ids_in_scope: IdsInScope
    load_versioned: Load | None = None
    load_encoded: LoadFor | None = None
    framed_in_scope: FramedInScope | None = None
    permission: Permission | None = None
    ancestors: bool = False
    visible: Visible | None = None
    fields: Mapping[str, Field] = field(default_factory=dict)
    create: Create | None = None
    create_many: CreateMany | None = None
    update: Update | None = None
    delete: Delete | None = None
    id_check: IdCheck = uuid_id
    schema: type | None = None  # a msgspec Struct typing the writable fields (all optional)
    shared: bool = False

    def scope_paths(self, actor: Actor) -> list[str]:
        if self.permission is None:
            return sorted({g.area_path for g in actor.grants})
        return sorted(set(actor.scope_paths(self.permission)))

    def is_visible(self, actor: Actor, row: Row) -> bool:
        if self.visible is not None:
            return self.visible(actor, row)
        return paths_visible(row.paths, self.scope_paths(actor), self.ancestors)


def paths_visible(row_paths: Sequence[str], scopes: Sequence[str], ancestors: bool) -> bool:
    for path in row_paths:
        for scope in scopes:
            if within(path, scope) or (ancestors and within(scope, path)):
                return True
    return False


def ancestor_paths(path: str) -> list[str]:
    """``/VN/38/38001/`` → ``/VN/``, ``/VN/38/`` (the path itself excluded)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


class Registry:
    """The synced tables of this server, in registration order (snapshots follow that order)."""

    def __init__(self) -> None:
        self._tables: dict[str, SyncedTable] = {}

    def add(self, table: SyncedTable) -> SyncedTable:
        if table.name in self._tables:
            raise ValueError(f"synced table {table.name!r} registered twice")
        if (table.create or table.update) and table.fields and table.schema is None:
            raise ValueError(f"synced table {table.name!r}: writable fields need a schema")
        self._tables[table.name] = table
        return table

    def get(self, name: str) -> SyncedTable | None:
        return self._tables.get(name)

    def __iter__(self) -> Iterator[SyncedTable]:
        return iter(self._tables.values())

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    @property
    def names(self) -> list[str]:
        return list(self._tables)
