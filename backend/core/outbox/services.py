"""The outbox: enqueue in the caller's transaction; workers claim, deliver and complete.

A claim is a lease: the row is stamped with the worker's id and a lease expiry. A worker that
dies mid-delivery simply lets its lease run out and another worker takes the row, with the
attempt count showing the retry. Handlers must therefore be idempotent per row (channels record
per-target deliveries), which is what turns at-least-once claiming into exactly-once effects.
On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so concurrent workers never take the
same row and never wait on each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backend.core.outbox.tables import OutboxMessage
from backend.lib.db import json_column
from backend.runtime import Runtime

log = logging.getLogger(__name__)

# "devices": what Kẻng sends one device (desired state, commands); "staffinbox": entries of staff
# accounts' inboxes (device alarms, notices the programme moved) written and pushed to their phones.
CHANNELS = ("push", "mqtt", "eboard", "cap", "sms", "devices", "staffinbox")
MAX_ATTEMPTS = 12
# Claim order: an emergency's rows go before everything queued ahead of them, then first in, first out.
URGENT = 0
NORMAL = 5
LEASE_SECONDS = 60


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    channel: str
    event: str
    aggregate_id: str
    payload: dict[str, Any]
    attempts: int
    precedence: int = NORMAL


class RetryLater(Exception):
    """A handler's way to ask for a retry at a given time (e.g. a ``Retry-After`` answer)."""

    def __init__(self, reason: str, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.after_seconds = after_seconds


ChannelHandler = Callable[[Runtime, ClaimedMessage], Awaitable[None]]


async def enqueue(
    rt: Runtime,
    *,
    channel: str,
    event: str,
    aggregate_id: str,
    payload: dict[str, Any],
    urgent: bool = False,
) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    now = rt.clock.now()
    await OutboxMessage.insert(
        OutboxMessage(
            channel=channel,
            event=event,
            aggregate_id=aggregate_id,
            payload=payload,
            status="pending",
            precedence=URGENT if urgent else NORMAL,
            attempts=0,
            available_at=now,
            created_at=now,
        )
    )


async def claim(rt: Runtime, worker_id: str, channels: list[str], limit: int = 20) -> list[ClaimedMessage]:
    if not channels:
        return []
    now = rt.clock.now()
    lease_until = now + timedelta(seconds=LEASE_SECONDS)
    placeholders = ", ".join("{}" for _ in channels)
    lock = " FOR UPDATE SKIP LOCKED" if rt.db.dialect == "postgres" else ""
    sql = (
        'UPDATE "outbox_message" SET "lease_owner" = {}, "lease_until" = {}, "attempts" = "attempts" + 1 '
        'WHERE "id" IN (SELECT "id" FROM "outbox_message" WHERE "status" = \'pending\' '
        f'AND "channel" IN ({placeholders}) AND "available_at" <= {{}} '
        'AND ("lease_until" IS NULL OR "lease_until" < {}) '
        f'ORDER BY "precedence", "id" LIMIT {{}}{lock}) '
        'RETURNING "id", "channel", "event", "aggregate_id", "payload", "attempts", "precedence"'
    )
    async with rt.db.transaction():
        rows = await rt.db.fetch(sql, worker_id, lease_until, *channels, now, now, limit)
    return sorted((_claimed(r) for r in rows), key=lambda m: (m.precedence, m.id))


def _claimed(row: dict[str, Any]) -> ClaimedMessage:
    payload = json_column(row["payload"], {})
    return ClaimedMessage(
        id=int(row["id"]),
        channel=row["channel"],
        event=row["event"],
        aggregate_id=row["aggregate_id"],
        payload=payload,
        attempts=int(row["attempts"]),
        precedence=int(row["precedence"]),
    )


async def complete(rt: Runtime, message: ClaimedMessage, worker_id: str) -> bool:
    """Mark done if this worker still holds the lease; False means another worker took it over."""
    rows = await (
        OutboxMessage.update(
            {
                OutboxMessage.status: "done",
                OutboxMessage.done_at: rt.clock.now(),
                OutboxMessage.lease_until: None,
            }
        )
        .where((OutboxMessage.id == message.id) & (OutboxMessage.lease_owner == worker_id))
        .returning(OutboxMessage.id)
    )
    return bool(rows)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter, capped at an hour."""
    return random.uniform(0, min(3600.0, 2.0 ** min(attempts, 12)))


async def fail(
    rt: Runtime, message: ClaimedMessage, worker_id: str, error: str, after_seconds: float | None = None
) -> None:
    dead = message.attempts >= MAX_ATTEMPTS
    delay = after_seconds if after_seconds is not None else backoff_seconds(message.attempts)
    values: dict[Any, Any] = {
        OutboxMessage.last_error: error[:2000],
        OutboxMessage.lease_until: None,
        OutboxMessage.lease_owner: None,
        OutboxMessage.available_at: rt.clock.now() + timedelta(seconds=delay),
    }
    if dead:
        values[OutboxMessage.status] = "dead"
    await OutboxMessage.update(values).where(
        (OutboxMessage.id == message.id) & (OutboxMessage.lease_owner == worker_id)
    )


class OutboxWorker:
    """Claims rows for the channels that have handlers; channels without one stay pending."""

    def __init__(self, rt: Runtime, worker_id: str | None = None, batch: int = 20) -> None:
        self.rt = rt
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def run_once(self) -> int:
        """Claim one batch and process it; returns how many rows were claimed."""
        handlers = self.rt.channel_handlers
        messages = await claim(self.rt, self.worker_id, sorted(handlers), self.batch)
        for message in messages:
            await self.process(message)
        return len(messages)

    async def process(self, message: ClaimedMessage) -> None:
        handler = self.rt.channel_handlers[message.channel]
        try:
            await handler(self.rt, message)
        except RetryLater as exc:
            await fail(self.rt, message, self.worker_id, str(exc), exc.after_seconds)
        except Exception as exc:
            log.exception("outbox %s/%s failed (attempt %s)", message.channel, message.id, message.attempts)
            await fail(self.rt, message, self.worker_id, f"{type(exc).__name__}: {exc}")
        else:
            await self.complete_or_warn(message)

    async def complete_or_warn(self, message: ClaimedMessage) -> None:
        if not await complete(self.rt, message, self.worker_id):
            log.warning("outbox %s: lease lost before completion; another worker owns it", message.id)

    async def drain(self, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                break
        return total

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"outbox-{self.worker_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("outbox worker round failed")
                claimed = 0
            if claimed == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.rt.settings.worker_poll_seconds)


async def pending_count(rt: Runtime, channel: str | None = None) -> int:
    query = OutboxMessage.count().where(OutboxMessage.status == "pending")
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return int(await query)
