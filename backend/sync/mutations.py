"""What a phone's mutation is, and the steps of applying one that stand apart from the order of
the queue: how one is read from a request (either protocol's shape), field checks, the device's
sequence row, the savepoint each mutation runs in, and the errors it may end with (see
:mod:`backend.sync.push` for the queue itself)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor
from backend.lib.errors import BadRequest, Conflict, DomainError, Forbidden, Unavailable, ValidationFailed
from backend.lib.i18n import translate
from backend.runtime import Runtime
from backend.sync.registry import SyncedTable
from backend.sync.schemas import ErrorOut, MutationIn, MutationV1


class RowChanged(Unavailable):
    """A write hook found its row changed under it (a concurrent writer); the engine reloads the row,
    merges again and retries; if that keeps happening the request gets a 503."""


class DeviceTaken(Forbidden):
    default_code = "device_taken"
    default_key = "error.device_taken"


@dataclass
class Mutation:
    seq: int
    table: str
    op: str  # c, u, d
    id: str
    version: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] | None = None  # None: protocol 1, no per-field base values
    invalid: str = ""  # why the mutation could not even be read (rejected as such)


def out_of_scope() -> Forbidden:
    return Forbidden("out_of_scope", message_key="error.out_of_scope")


def row_deleted() -> Conflict:
    return Conflict("row_deleted", message_key="error.row_deleted")


@contextlib.asynccontextmanager
async def savepoint(rt: Runtime) -> AsyncIterator[None]:
    """One name for every mutation's savepoint: a name refers to the latest savepoint of that name,
    so nesting still works, and the statements' text stays the same. On PostgreSQL every statement
    is prepared and cached per connection; a new name per mutation made two new statements each,
    and a push of a few hundred mutations pushed every other statement out of the cache."""
    await rt.db.execute("SAVEPOINT sync_m")
    try:
        yield
    except BaseException:
        await rt.db.execute("ROLLBACK TO SAVEPOINT sync_m")
        await rt.db.execute("RELEASE SAVEPOINT sync_m")
        raise
    await rt.db.execute("RELEASE SAVEPOINT sync_m")


async def lock_device(rt: Runtime, actor: Actor, device_id: str, protocol: int) -> int:
    """The device's last applied sequence, with its row locked for this transaction (PostgreSQL;
    SQLite's write transaction is exclusive anyway). A device id belongs to one account."""
    now = rt.clock.now()
    await rt.db.execute(
        'INSERT INTO "sync_device" ("id", "account", "last_seq", "protocol", "scope_token", "created_at", '
        "\"last_sync_at\") VALUES ({}, {}, 0, {}, '', {}, {}) ON CONFLICT DO NOTHING",
        device_id,
        actor.account_id,
        protocol,
        now,
        now,
    )
    lock = " FOR UPDATE" if rt.db.dialect == "postgres" else ""
    rows = await rt.db.fetch(
        f'SELECT "account", "last_seq" FROM "sync_device" WHERE "id" = {{}}{lock}', device_id
    )
    if str(rows[0]["account"]) != str(actor.account_id):
        raise DeviceTaken(details={"device": device_id})
    return int(rows[0]["last_seq"])


def error_out(exc: DomainError, language: str) -> ErrorOut:
    return ErrorOut(
        code=exc.code, message=translate(exc.message_key, language, **exc.params), details=exc.details
    )


def check_fields(table: SyncedTable, m: Mutation) -> dict[str, Any]:
    """Only the table's writable fields, typed by its schema; create-only fields only on create."""
    if m.op == "d":
        return {}
    if table.create is None and table.update is None:
        raise Forbidden("read_only", details={"table": table.name})
    errors = []
    for name in m.fields:
        spec = table.fields.get(name)
        if spec is None:
            errors.append({"field": f"f.{name}", "reason": "not a field a phone may write"})
        elif spec.create_only and m.op == "u":
            errors.append({"field": f"f.{name}", "reason": "set only when the record is created"})
    if errors:
        raise ValidationFailed(errors)
    if table.schema is not None:
        try:
            msgspec.convert(m.fields, table.schema)
        except msgspec.ValidationError as exc:
            raise ValidationFailed([{"field": "f", "reason": str(exc)}]) from exc
    return dict(m.fields)


OP_V1 = {"insert": "c", "update": "u", "delete": "d"}


def parse_mutations(protocol: int, raw: list[Any]) -> list[Mutation]:
    """Each mutation on its own: a malformed one is rejected alone (if it names its sequence).

    A protocol-2 request may still carry mutations of protocol-1 shape: a phone whose app was
    upgraded with old mutations in its queue sends them as they were queued (without base values)."""
    out = []
    for item in raw:
        try:
            if protocol == 1 or (isinstance(item, dict) and "seq" in item and "s" not in item):
                v1 = msgspec.convert(item, MutationV1)
                out.append(
                    Mutation(
                        seq=v1.seq,
                        table=v1.table,
                        op=OP_V1[v1.op],
                        id=v1.id,
                        version=v1.base_version,
                        fields=dict(v1.data),
                        base=None,
                    )
                )
            else:
                m = msgspec.convert(item, MutationIn)
                out.append(
                    Mutation(
                        seq=m.s, table=m.t, op=m.op, id=m.id, version=m.v, fields=dict(m.f), base=dict(m.b)
                    )
                )
        except msgspec.ValidationError as exc:
            seq = item.get("s", item.get("seq")) if isinstance(item, dict) else None
            if not isinstance(seq, int) or seq < 1:
                raise BadRequest("invalid_mutation", details={"reason": str(exc)}) from exc
            out.append(Mutation(seq=seq, table="", op="u", id="", invalid=str(exc)))
    return out
