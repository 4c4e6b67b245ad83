"""The sync round trip: check the phone's history, apply its mutations, answer one checkpoint.

Order of a request: (1) the protocol version; (2) whether the phone's history is still the server's
— same epoch, its cursor's change still there with the same tag, not below the tombstone floor,
its scope token known — otherwise the answer is "reset" and nothing is applied (the phone keeps its
queue and pushes it after its fresh snapshot); (3) the mutations, in one transaction; (4) one page:
a snapshot or scope-change scan if one is due or under way, else the incremental pull.

Transient trouble (database busy or unreachable, too many syncs at once) is answered 503/429 with
``Retry-After`` and changes nothing; the phone backs off and retries the same request."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from backend.core.accounts.permissions import Actor
from backend.lib.errors import BadRequest, DomainError, Forbidden, RateLimited, Unavailable
from backend.runtime import Runtime
from backend.sync import integrity, pull, scans, wire
from backend.sync.answers import Answer
from backend.sync.mutations import DeviceTaken, parse_mutations
from backend.sync.push import Pusher
from backend.sync.registry import Registry, Row
from backend.sync.schemas import (
    PROTOCOLS,
    ResetOut,
    ScanOut,
    SyncIn,
    SyncOut,
)
from backend.sync.scope import actor_for_token, current_token, remember
from backend.sync.state import Snapshot, get_state, high_water, snapshot

TRANSIENT: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    TimeoutError,
)


class ProtocolUnsupported(BadRequest):
    default_code = "protocol_unsupported"
    default_key = "error.sync_protocol"


class SyncGate:
    """At most ``limit`` syncs at once in this process, and one at a time per device (a duplicated
    request waits its turn as a 429 instead of racing its twin)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.devices: set[str] = set()

    @contextlib.asynccontextmanager
    async def enter(self, device_id: str) -> AsyncIterator[None]:
        if device_id in self.devices:
            raise RateLimited("sync_in_progress", details={"retry_after": 1}, headers={"Retry-After": "1"})
        if self.active >= self.limit:
            raise RateLimited(details={"retry_after": 2}, headers={"Retry-After": "2"})
        self.active += 1
        self.devices.add(device_id)
        try:
            yield
        finally:
            self.active -= 1
            self.devices.discard(device_id)


def require_official(actor: Actor) -> None:
    if actor.kind != "staff" or not actor.grants:
        raise Forbidden(details={"reason": "staff accounts with a role only"})


@contextlib.asynccontextmanager
async def transient_as_503() -> AsyncIterator[None]:
    try:
        yield
    except DomainError:
        raise
    except TRANSIENT as exc:
        raise Unavailable(
            details={"retry_after": 2, "reason": type(exc).__name__}, headers={"Retry-After": "2"}
        ) from exc


def scan_mark(rt: Runtime, req: SyncIn, token: str) -> int:
    """The mark of the scan the phone continues (0 if none, or if its token is unreadable: the page
    itself then answers that), or, for a first login, the mark it may start from."""
    if req.scan is None:
        return scans.reusable_mark(rt, token) if req.scope is None else 0
    try:
        return scans.ScanState.decode(req.scan).mark
    except BadRequest:
        return 0


async def starting_facts(rt: Runtime, actor: Actor, req: SyncIn, token: str) -> Snapshot:
    mark = scan_mark(rt, req, token)
    facts = await snapshot(rt, req.device, req.cursor, token, mark)
    if facts is None:
        await get_state(rt)  # the first sync of this server makes its state row
        facts = await snapshot(rt, req.device, req.cursor, token, mark)
        assert facts is not None
    if not facts.scope_known:
        await remember(rt, actor)
    if facts.device_account is not None and facts.device_account != str(actor.account_id):
        raise DeviceTaken(details={"device": req.device})
    return facts


async def history_problem(rt: Runtime, facts: Snapshot, req: SyncIn, token: str) -> str | None:
    """Why the phone's rows can no longer be continued from, or None."""
    state = facts.state
    if req.epoch is not None and req.epoch != state.epoch:
        return "epoch"
    if req.cursor > 0:
        if req.epoch is None:
            return "epoch"
        if req.cursor < state.floor:
            return "horizon"
        tag = facts.cursor_tag
        if tag is None:
            # Exactly at the floor: its change was pruned at the horizon, and the phone has seen
            # everything up to it. Anywhere above: this server never had that change.
            if req.cursor != state.floor:
                return "epoch"
        elif tag != req.tag:
            return "epoch"
        if req.cursor > facts.top:
            return "epoch"
    if req.scope is not None and req.scope != token and await actor_for_token(rt, None, req.scope) is None:
        return "scope"
    return None


async def round_trip(rt: Runtime, registry: Registry, actor: Actor, req: SyncIn, language: str) -> Answer:
    if req.protocol not in PROTOCOLS:
        raise ProtocolUnsupported(version=req.protocol, details={"supported": list(PROTOCOLS)})
    require_official(actor)
    mutations = parse_mutations(req.protocol, req.mutations)
    max_bytes = min(req.max_bytes, rt.settings.sync_max_page_bytes)
    async with transient_as_503():
        token = current_token(actor)
        # One statement for the state, the high-water mark, the tags, the device and the scope; the
        # writes it may call for (first state row, a new scope token) come before the reads below.
        facts = await starting_facts(rt, actor, req, token)
        seq = facts.device_seq
        problem = await history_problem(rt, facts, req, token)
        if problem is not None:
            return Answer(
                SyncOut(
                    protocol=req.protocol,
                    epoch=facts.state.epoch,
                    device_seq=seq,
                    cursor=0,
                    reset=ResetOut(reason=problem),
                )  # type: ignore[arg-type]
            )
        acks = []
        gap = False
        if mutations:
            async with rt.db.transaction():
                result = await Pusher(rt, registry, actor, req.device, language).run(mutations, req.protocol)
            acks, seq, gap = result.acks, result.device_seq, result.gap
        # What was read before the push holds for the page only if nothing was pushed.
        known = None if mutations else facts
        fresh: list[tuple[str, Row]] = []
        async with rt.db.reading():
            answer = await _page(rt, registry, actor, req, max_bytes, token, known, fresh)
            out = answer.out
            if req.digest and not out.more and out.scan is None and out.reset is None:
                out.digest = await integrity.digests(rt, registry, actor)
        if fresh:
            # Rows the page had to encode are kept for the next phone, after the page was read.
            async with rt.db.transaction():
                await wire.remember(rt, fresh)
        out.protocol = req.protocol
        out.epoch = facts.state.epoch
        out.device_seq = seq
        out.acks = acks
        out.gap = gap
        return answer


def _empty(req: SyncIn, **kwargs: Any) -> SyncOut:
    return SyncOut(protocol=req.protocol, epoch="", device_seq=0, **kwargs)


async def _page(
    rt: Runtime,
    registry: Registry,
    actor: Actor,
    req: SyncIn,
    max_bytes: int,
    token: str,
    known: Snapshot | None,
    fresh: list[tuple[str, Row]],
) -> Answer:
    if req.scan is not None:
        state = scans.ScanState.decode(req.scan)
        if state.new != token:
            return Answer(_empty(req, cursor=0, reset=ResetOut(reason="scope")))
        return await _scan(rt, registry, actor, req, state, max_bytes, known, fresh)
    mark = known.top if known is not None else None
    if req.scope is None:
        state = await scans.start_snapshot(rt, token, known)
        return await _scan(rt, registry, actor, req, state, max_bytes, known, fresh)
    if req.scope != token:
        state = await scans.start(rt, "delta", token, req.scope, mark=mark)
        return await _scan(rt, registry, actor, req, state, max_bytes, known, fresh)
    wide_actor, wide_until = None, 0
    if req.wide:
        old, _, until = req.wide.partition(":")
        wide_actor = await actor_for_token(rt, actor.account_id, old)
        wide_until = int(until) if until.isdigit() else 0
    top, tags = None, None
    if known is not None:
        top, tags = known.top, known.tags()
    page = await pull.pull(
        rt, registry, actor, req.device, req.cursor, max_bytes, wide_actor, wide_until, top, tags, fresh
    )
    wide = req.wide if (req.wide and page.cursor < wide_until) else None
    out = _empty(
        req, cursor=page.cursor, tag=page.tag, more=page.more, changes=page.changes, scope=token, wide=wide
    )
    return Answer(out)


async def _scan(
    rt: Runtime,
    registry: Registry,
    actor: Actor,
    req: SyncIn,
    state: scans.ScanState,
    max_bytes: int,
    known: Snapshot | None,
    fresh: list[tuple[str, Row]],
) -> Answer:
    old = await actor_for_token(rt, actor.account_id, state.old) if state.old else None
    history = known.history(state.mark) if known is not None else None
    page = await scans.page(rt, registry, actor, state, max_bytes, old, history, fresh)
    scan = ScanOut(kind=state.kind, token=page.state.encode(), done=page.done)  # type: ignore[arg-type]
    if not page.done:
        out = _empty(req, cursor=req.cursor, tag=req.tag, more=True, changes=page.changes, scan=scan)
        return Answer(out, page.packed)
    if state.kind == "snapshot":
        cursor = state.mark
        tag = await pull._tag(rt, cursor, known.tags() if known is not None else None)
        wide = None
    else:
        cursor, tag = req.cursor, req.tag
        wide = f"{state.old}:{page.state.wide_until}"
    more = (known.top if known is not None else await high_water(rt)) > cursor
    out = _empty(
        req, cursor=cursor, tag=tag, more=more, changes=page.changes, scan=scan, scope=state.new, wide=wide
    )
    return Answer(out, page.packed)


async def gate_for(app_state: Any, rt: Runtime) -> SyncGate:
    gate = getattr(app_state, "sync_gate", None)
    if gate is None:
        gate = SyncGate(rt.settings.sync_max_concurrent)
        app_state.sync_gate = gate
    return gate
