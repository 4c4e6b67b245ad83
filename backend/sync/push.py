"""Applying a phone's mutations: exactly once, in order, each with its merge, conflicts and answer.

All mutations of one request run in one transaction together with the device's ``last_seq`` and a
ledger row per mutation, so either all of that commits or none of it does, and a retry — whatever
got lost on the way — is recognised by its (device, seq). Mutations apply strictly in sequence: one
already applied is answered from the ledger; one that comes after a missing sequence is not applied
(the phone resends from ``last_seq + 1``).

Each mutation runs inside a savepoint. A mutation that can never succeed (invalid, forbidden, out of
scope, about a deleted row) is rolled back alone, recorded as rejected with its reason, and the
queue moves on. A failure of the database itself aborts the whole request (503, nothing applied)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor
from backend.core.changes.services import capture
from backend.lib.errors import Conflict, DomainError, Forbidden, NotFound, Unavailable, ValidationFailed
from backend.runtime import Runtime
from backend.sync import conflicts, wire
from backend.sync.mutations import (
    Mutation,
    RowChanged,
    check_fields,
    error_out,
    lock_device,
    out_of_scope,
    row_deleted,
    savepoint,
)
from backend.sync.pull import load_rows as pull_rows
from backend.sync.registry import Context, Registry, Row, SyncedTable
from backend.sync.rules import UNKNOWN, merge
from backend.sync.schemas import AckOut
from backend.sync.state import versions
from backend.sync.tables import SyncMutation

RETRIES = 3
BATCH = 500
FINAL = "final_row"  # ctx.cache: the mutated row as its writes left it
LEDGER = ("key", "device_id", "seq", "account", "table_name", "row_id", "op", "status", "answer", "at")


class _Isolate(Exception):
    """Leave the batch path for the one-by-one path."""


@dataclass
class PushResult:
    acks: list[AckOut]
    device_seq: int
    gap: bool


class Pusher:
    """One request's mutations, in one transaction (the caller opens it)."""

    def __init__(self, rt: Runtime, registry: Registry, actor: Actor, device_id: str, language: str) -> None:
        self.rt = rt
        self.registry = registry
        self.actor = actor
        self.device_id = device_id
        self.language = language
        self.ledger: list[tuple[Any, ...]] = []  # sync_mutation rows, see LEDGER
        self.origins: list[tuple[int, str]] = []  # sync_origin rows
        self.written: list[tuple[str, Row]] = []  # rows as written, to keep encoded (sync.wire)

    async def run(self, mutations: Sequence[Mutation], protocol: int) -> PushResult:
        last = await lock_device(self.rt, self.actor, self.device_id, protocol)
        acks: list[AckOut] = []
        ordered = sorted(mutations, key=lambda m: m.seq)
        dups = [m.seq for m in ordered if m.seq <= last]
        acks.extend(await self._replays(dups))
        todo = []
        for m in ordered:
            if m.seq <= last:
                continue
            if m.seq != last + 1 + len(todo):
                break
            todo.append(m)
        gap = len(todo) < len([m for m in ordered if m.seq > last])
        i = 0
        while i < len(todo):
            run = self._create_run(todo, i)
            if len(run) > 1:
                acks.extend(await self._many(run))
                i += len(run)
            else:
                acks.append(await self._one(todo[i]))
                i += 1
        if todo:
            last = todo[-1].seq
        await self.rt.db.insert_many("sync_mutation", LEDGER, self.ledger)
        await self.rt.db.insert_many("sync_origin", ("seq", "device_id"), self.origins)
        await wire.remember(self.rt, self.written)
        await self.rt.db.execute(
            'UPDATE "sync_device" SET "last_seq" = {}, "protocol" = {}, "last_sync_at" = {} WHERE "id" = {}',
            last,
            protocol,
            self.rt.clock.now(),
            self.device_id,
        )
        return PushResult(acks=acks, device_seq=last, gap=gap)

    async def _replays(self, seqs: list[int]) -> list[AckOut]:
        """Answers to mutations applied before (a retry): from the ledger, as first given."""
        if not seqs:
            return []
        keys = [f"{self.device_id}:{s}" for s in seqs]
        stored = {}
        for start in range(0, len(keys), 500):
            for r in await SyncMutation.select(SyncMutation.seq, SyncMutation.answer).where(
                SyncMutation.key.is_in(keys[start : start + 500])
            ):
                stored[int(r["seq"])] = r["answer"]
        out = []
        for seq in seqs:
            answer = stored.get(seq)
            if answer is None:  # pruned from the ledger long ago; it was applied
                out.append(AckOut(s=seq, st="ok", dup=True))
                continue
            ack = msgspec.json.decode(
                answer if isinstance(answer, str | bytes) else msgspec.json.encode(answer), type=AckOut
            )
            out.append(msgspec.structs.replace(ack, dup=True))
        return out

    async def _one(self, m: Mutation) -> AckOut:
        ctx = Context(rt=self.rt, actor=self.actor, device_id=self.device_id, seq=m.seq)
        table = self.registry.get(m.table)
        for attempt in range(RETRIES):
            ctx.cache.pop(FINAL, None)
            try:
                async with savepoint(self.rt):
                    with capture() as produced:
                        if m.invalid:
                            raise ValidationFailed([{"field": "mutation", "reason": m.invalid}])
                        if table is None:
                            raise ValidationFailed([{"field": "t", "reason": f"unknown table {m.table}"}])
                        ack = await self._apply(ctx, table, m)
            except RowChanged:
                if attempt == RETRIES - 1:
                    raise
                continue
            except DomainError as exc:
                if isinstance(exc, Unavailable):
                    raise
                return self._reject(m, exc)
            mine = [seq for seq, change in produced if change.table == m.table and change.row_id == m.id]
            if ctx.cache.pop("left_scope", False) is False:
                self._own(mine)
            if mine:
                ack = msgspec.structs.replace(ack, v=max(mine))
            self._keep(table, ctx.cache.pop(FINAL, None))
            self._record(m, ack, "applied")
            return ack
        raise AssertionError("unreachable")

    def _create_run(self, todo: list[Mutation], start: int) -> list[Mutation]:
        """Consecutive creates in one table that writes many rows at once (a phone back online
        with days of new records): checked one by one, written together."""
        first = todo[start]
        table = self.registry.get(first.table)
        if first.op != "c" or first.invalid or table is None or table.create_many is None:
            return [first]
        run = [first]
        for m in todo[start + 1 :]:
            if m.op != "c" or m.table != first.table or m.invalid or len(run) >= BATCH:
                break
            run.append(m)
        return run

    async def _many(self, run: list[Mutation]) -> list[AckOut]:
        table = self.registry.get(run[0].table)
        assert table is not None and table.create_many is not None
        ctx = Context(rt=self.rt, actor=self.actor, device_id=self.device_id, seq=run[0].seq)
        answers: dict[int, AckOut] = {}
        ready: list[tuple[Mutation, dict[str, Any]]] = []
        existing = await table.load(self.rt, [m.id for m in run])
        deleted = await self._deleted_ids(table.name, [m.id for m in run])
        seen: set[str] = set()
        for m in run:
            try:
                if not table.id_check(m.id):
                    raise ValidationFailed([{"field": "id", "reason": "not a valid id for this table"}])
                values = check_fields(table, m)
                if m.id in existing or m.id in deleted or m.id in seen:
                    raise Conflict("duplicate_id", details={"table": table.name, "id": m.id})
            except DomainError as exc:
                answers[m.seq] = self._reject(m, exc)
                continue
            seen.add(m.id)
            ready.append((m, values))
        if ready:
            try:
                async with savepoint(self.rt):
                    with capture() as produced:
                        errors = await table.create_many(ctx, [(m.seq, m.id, values) for m, values in ready])
                        written = [(m, v) for (m, v), e in zip(ready, errors, strict=True) if e is None]
                        finals = await pull_rows(self.rt, table, [m.id for m, _ in written])
                        if any(
                            m.id not in finals or not table.is_visible(self.actor, finals[m.id])
                            for m, _ in written
                        ):
                            raise _Isolate()
            except _Isolate:
                # Something in the batch needs the careful path: one savepoint per mutation.
                for m, _ in ready:
                    answers[m.seq] = await self._one(m)
                return [answers[m.seq] for m in run]
            ids = {m.id for m, _ in written}
            self._own(
                [seq for seq, change in produced if change.table == table.name and change.row_id in ids]
            )
            last_change: dict[str, int] = {}
            for seq, change in produced:
                last_change[change.row_id] = max(seq, last_change.get(change.row_id, 0))
            for (m, values), error in zip(ready, errors, strict=True):
                if error is not None:
                    answers[m.seq] = self._reject(m, error)
                    continue
                final = finals[m.id]
                self._keep(table, final)
                fix = {k: v for k, v in final.data.items() if k not in values or values[k] != v}
                ack = AckOut(
                    s=m.seq, st="ok", t=m.table, id=m.id, v=last_change.get(m.id, final.version), fix=fix
                )
                self._record(m, ack, "applied")
                answers[m.seq] = ack
        return [answers[m.seq] for m in run]

    def _keep(self, table: SyncedTable | None, row: Row | None) -> None:
        """A row as this push left it (loaded after its writes, with its version), for a table that
        keeps rows encoded: the phones that pull it next take the encoding as it is. Only rows of
        mutations that stood (their savepoint released) are kept."""
        if table is not None and table.load_encoded is not None and row is not None:
            self.written.append((table.name, row))

    def _own(self, seqs: list[int]) -> None:
        """Changes of the mutated row itself: the phone has them from the answer, so a pull does not
        echo them. Side effects (a conflict record, another row a hook touched) are not the phone's
        own: it learns of them from the pull like of anyone else's change."""
        self.origins.extend((seq, self.device_id) for seq in seqs)

    def _reject(self, m: Mutation, exc: DomainError) -> AckOut:
        ack = AckOut(s=m.seq, st="rej", t=m.table, id=m.id, err=error_out(exc, self.language))
        self._record(m, ack, "rejected")
        return ack

    async def _deleted_ids(self, table: str, ids: list[str]) -> set[str]:
        match, args = self.rt.db.any_of(ids, "text")
        rows = await self.rt.db.fetch(
            f'SELECT DISTINCT "row_id" FROM "change_log" WHERE "table_name" = {{}} AND "row_id" {match} '
            "AND \"op\" = 'delete'",
            table,
            *args,
        )
        return {r["row_id"] for r in rows}

    def _record(self, m: Mutation, ack: AckOut, status: str) -> None:
        self.ledger.append(
            (
                f"{self.device_id}:{m.seq}",
                self.device_id,
                m.seq,
                self.actor.account_id,
                m.table[:48],
                m.id[:64],
                m.op,
                status,
                msgspec.json.encode(ack).decode(),
                self.rt.clock.now(),
            )
        )

    async def _load(self, table: SyncedTable, row_id: str) -> Row | None:
        row = (await table.load(self.rt, [row_id])).get(row_id)
        if row is not None:
            row.version = (await versions(self.rt, table.name, [row_id])).get(row_id, 0)
        return row

    async def _tombstoned(self, table: str, row_id: str) -> bool:
        """Deleted rows are known by the delete in the change log (kept for the horizon)."""
        rows = await self.rt.db.fetch(
            'SELECT 1 AS "x" FROM "change_log" WHERE "table_name" = {} AND "row_id" = {} '
            "AND \"op\" = 'delete' LIMIT 1",
            table,
            row_id,
        )
        return bool(rows)

    async def _apply(self, ctx: Context, table: SyncedTable, m: Mutation) -> AckOut:
        if not table.id_check(m.id):
            raise ValidationFailed([{"field": "id", "reason": "not a valid id for this table"}])
        values = check_fields(table, m)
        current = await self._load(table, m.id)
        if m.op == "c":
            return await self._create(ctx, table, m, current, values)
        if current is None:
            if await self._tombstoned(table.name, m.id):
                if m.op == "d":
                    return AckOut(s=m.seq, st="ok", t=m.table, id=m.id)  # already gone: nothing to do
                raise row_deleted()
            raise NotFound("resource", details={"table": table.name, "id": m.id})
        if not table.is_visible(self.actor, current):
            raise out_of_scope()
        if m.op == "d":
            return await self._delete(ctx, table, m, current)
        return await self._update(ctx, table, m, current, values)

    async def _create(
        self, ctx: Context, table: SyncedTable, m: Mutation, current: Row | None, values: dict[str, Any]
    ) -> AckOut:
        if table.create is None:
            raise Forbidden("read_only", details={"table": table.name, "op": "create"})
        if current is not None or await self._tombstoned(table.name, m.id):
            raise Conflict("duplicate_id", details={"table": table.name, "id": m.id})
        await table.create(ctx, m.id, values)
        final = ctx.cache[FINAL] = await self._load(table, m.id)
        if final is None or not table.is_visible(self.actor, final):
            raise out_of_scope()
        fix = {k: v for k, v in final.data.items() if k not in values or values[k] != v}
        return AckOut(s=m.seq, st="ok", t=m.table, id=m.id, v=final.version, fix=fix)

    async def _update(
        self, ctx: Context, table: SyncedTable, m: Mutation, current: Row, values: dict[str, Any]
    ) -> AckOut:
        if table.update is None:
            raise Forbidden("read_only", details={"table": table.name, "op": "update"})
        unchanged = m.version == current.version
        to_write: dict[str, Any] = {}
        clashes = []
        for name, client in values.items():
            base = UNKNOWN if m.base is None else m.base.get(name, UNKNOWN)
            server = current.data.get(name)
            result = merge(table.fields[name], base, server, client, row_unchanged=unchanged)
            if result.changed:
                to_write[name] = result.value
            if result.conflict:
                clashes.append((name, base, server, client, result.value))
        if to_write:
            await table.update(ctx, current, to_write)
        ids = []
        for name, base, server, client, result in clashes:
            record = {
                "base": None if base is UNKNOWN else base,
                "server": server,
                "client": client,
                "result": result,
            }
            ids.append(
                await conflicts.record(ctx, table.name, current, name, table.fields[name].rule, record)
            )
        final = await self._load(table, m.id) if to_write else current
        if to_write:
            ctx.cache[FINAL] = final
        if final is None:
            raise row_deleted()
        if to_write and not table.is_visible(self.actor, final):
            # The phone's own edit took the row out of its scope (a conflict it resolved, say): the
            # pull must send the removal, so this change is not marked as the phone's own.
            ctx.cache["left_scope"] = True
        fix = {
            k: v
            for k, v in final.data.items()
            if (k in values and values[k] != v) or (k not in values and current.data.get(k) != v)
        }
        return AckOut(s=m.seq, st="ok", t=m.table, id=m.id, v=final.version, fix=fix, cf=ids)

    async def _delete(self, ctx: Context, table: SyncedTable, m: Mutation, current: Row) -> AckOut:
        if table.delete is None:
            raise Forbidden("not_deletable", details={"table": table.name})
        ids = []
        if m.version and m.version != current.version:
            # The row changed after the phone last saw it: the delete wins, the lost state is kept.
            record = {"base": None, "server": current.data, "client": None, "result": None}
            ids.append(await conflicts.record(ctx, table.name, current, "*", "delete_wins", record))
        await table.delete(ctx, current)
        return AckOut(s=m.seq, st="ok", t=m.table, id=m.id, cf=ids)
