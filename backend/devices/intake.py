"""Devices' MQTT reports, recorded in batches and in arrival order.

An emergency to a thousand devices comes back as a thousand acknowledgements (and as many
``online`` statuses after a broker restart) within a second. Recorded one message at a time, each
costs its own transaction, and the last one — and every report queued behind it, such as the Will
saying a cluster dropped — waits tens of seconds. Here the bus handlers only decode and queue;
one worker takes everything queued and records it in one transaction: runs of acknowledgements,
``online`` statuses and reported states with a few statements per run, every other report on its
own, all in the order received, so an ``offline`` never overtakes the ``online`` before it. A
batch that fails is retried one report at a time, so a bad report loses only itself. Reports still
queued at shutdown are recorded before the process ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from backend.devices.commands import services as commands
from backend.devices.health import presence
from backend.devices.health.schemas import DeviceEvent
from backend.devices.proof import services as proof
from backend.devices.proof.schemas import ProofIn
from backend.devices.tables import Device
from backend.lib.errors import ValidationFailed
from backend.runtime import Runtime

log = logging.getLogger(__name__)

Kind = Literal["online", "offline", "ack", "reported", "event", "reply", "proof"]
BATCHED: frozenset[str] = frozenset({"online", "ack", "reported"})
MAX_BATCH = 500
QUEUE_LIMIT = 20_000  # beyond it the bus waits: the broker holds QoS 1 messages meanwhile
STOP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Report:
    kind: Kind
    device_id: uuid.UUID
    body: Any = None


class DeviceIntake:
    def __init__(self, rt: Runtime, max_batch: int = MAX_BATCH) -> None:
        self.rt = rt
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Report] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None

    async def submit(self, report: Report) -> None:
        await self._queue.put(report)

    async def join(self) -> None:
        """Wait until everything submitted so far is recorded."""
        await self._queue.join()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="device-intake")

    async def stop(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), STOP_SECONDS)
        if not self._queue.empty():
            log.error("device intake stopped with %d reports unrecorded", self._queue.qsize())
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self.record(batch)
            except Exception:
                log.exception("device reports could not be recorded")
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def record(self, batch: list[Report]) -> None:
        """The whole batch in one transaction — one connection and one commit for hundreds of
        reports — runs of batchable reports together, every other one on its own, in order. If
        anything fails, nothing of the batch stays and each report is recorded again on its own,
        so a bad report loses only itself."""
        try:
            async with self.rt.db.transaction():
                await self._in_order(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("%s from device %s could not be recorded", batch[0].kind, batch[0].device_id)
                return
            log.warning("a batch of %d device reports failed; recording them one by one", len(batch))
            for report in batch:
                await self._alone(report)

    async def _in_order(self, batch: list[Report]) -> None:
        run: list[Report] = []
        for report in batch:
            if report.kind in BATCHED:
                run.append(report)
                continue
            if run:
                await record_activity(self.rt, run)
                run = []
            try:
                await _SINGLE[report.kind](self.rt, report.device_id, report.body)
            except ValidationFailed as exc:  # refused before anything was written
                log.warning("%s from device %s refused: %s", report.kind, report.device_id, exc.details)
        if run:
            await record_activity(self.rt, run)

    async def _alone(self, report: Report) -> None:
        try:
            if report.kind in BATCHED:
                await record_activity(self.rt, [report])
            else:
                await _SINGLE[report.kind](self.rt, report.device_id, report.body)
        except ValidationFailed as exc:
            log.warning("%s from device %s refused: %s", report.kind, report.device_id, exc.details)
        except Exception:
            log.exception("%s from device %s could not be recorded", report.kind, report.device_id)


async def record_activity(rt: Runtime, reports: list[Report]) -> None:
    """``online`` statuses, acknowledgements and reported states of many devices in one
    transaction: each is activity of its device (one UPDATE for all), a device that was offline
    comes back, the acknowledgements of known devices are stored, and newer reported states too."""
    ids = list({r.device_id for r in reports})
    async with rt.db.transaction():
        devices = {d["id"]: d for d in await Device.select().where(Device.id.is_in(ids))}
        active = {i: d for i, d in devices.items() if d["status"] != "retired"}
        await presence.mark_active(rt, list(active.values()))
        acks = [(r.device_id, r.body) for r in reports if r.kind == "ack" and r.device_id in devices]
        if acks:
            await proof.record_acks(rt, acks)
        states = [(r.device_id, r.body) for r in reports if r.kind == "reported"]
        if states:
            await presence.record_reported(rt, active, states)
        unknown = {r.device_id for r in reports} - devices.keys()
        if unknown:
            log.info("reports from %d unknown devices dropped", len(unknown))


async def _offline(rt: Runtime, device_id: uuid.UUID, _: Any) -> None:
    await presence.on_offline(rt, device_id)


async def _event(rt: Runtime, device_id: uuid.UUID, body: DeviceEvent) -> None:
    await presence.on_event(rt, device_id, body.type, body.active, body.details)


async def _reply(rt: Runtime, device_id: uuid.UUID, body: Any) -> None:
    await presence.touch(rt, device_id)
    await commands.on_reply(rt, device_id, body)


async def _proof(rt: Runtime, device_id: uuid.UUID, body: ProofIn) -> None:
    device = await presence.touch(rt, device_id)
    if device is None:
        log.warning("proof of play from unknown device %s dropped", device_id)
        return
    await proof.record_proofs(rt, device_id, device["group_id"], [body])


_SINGLE: dict[str, Callable[[Runtime, uuid.UUID, Any], Awaitable[None]]] = {
    "offline": _offline,
    "event": _event,
    "reply": _reply,
    "proof": _proof,
}
