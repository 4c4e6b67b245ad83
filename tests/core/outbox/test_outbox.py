"""The transactional outbox: enqueue in the caller's transaction, claim with leases, deliver, retry.

Time is a ``FakeClock``: leases and backoff are crossed by moving the clock, never by sleeping.
Delivery effects go into a small table keyed by outbox id with an idempotent insert, which is how
real channel handlers turn at-least-once claiming into exactly-once effects."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from backend.adapters.clock import FakeClock
from backend.core.outbox import services as outbox
from backend.core.outbox.services import ClaimedMessage, OutboxWorker, RetryLater
from backend.core.outbox.tables import OutboxMessage
from backend.lib.db import Database
from backend.runtime import Runtime

EFFECT_TABLE = "test_outbox_effect"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def seeded_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real jitter formula, but from a seeded generator so a test never depends on luck."""
    monkeypatch.setattr(outbox, "random", random.Random(20260101))


class Effects:
    """A delivery target: one row per outbox id however often a handler runs."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()

    async def deliver(self, rt: Runtime, message: ClaimedMessage) -> None:
        self.calls[message.id] += 1
        await rt.db.execute(
            f'INSERT INTO "{EFFECT_TABLE}" ("outbox_id", "attempt", "event") VALUES ({{}}, {{}}, {{}}) '
            'ON CONFLICT ("outbox_id") DO NOTHING',
            message.id,
            message.attempts,
            message.event,
        )

    async def rows(self, rt: Runtime) -> dict[int, dict[str, object]]:
        rows = await rt.db.fetch(f'SELECT "outbox_id", "attempt", "event" FROM "{EFFECT_TABLE}"')
        return {int(r["outbox_id"]): r for r in rows}


@pytest.fixture
async def effects(rt: Runtime) -> AsyncIterator[Effects]:
    # PostgreSQL keeps one database per session, so the table is created and dropped per test.
    await rt.db.execute_ddl(
        f'CREATE TABLE IF NOT EXISTS "{EFFECT_TABLE}" ("outbox_id" BIGINT PRIMARY KEY NOT NULL, '
        '"attempt" INTEGER NOT NULL, "event" VARCHAR(32) NOT NULL)'
    )
    await rt.db.execute_ddl(f'DELETE FROM "{EFFECT_TABLE}"')
    yield Effects()
    await rt.db.execute_ddl(f'DROP TABLE IF EXISTS "{EFFECT_TABLE}"')


@pytest.fixture
async def second_process(rt: Runtime) -> AsyncIterator[Runtime]:
    """Another process on the same database: its own ``Database`` (own pool / connections).
    Tables stay bound to the test's engine; outbox claims go through ``rt.db`` only."""
    db = Database(rt.db.url)
    await db.connect()
    try:
        yield dataclasses.replace(rt, db=db, channel_handlers=dict(rt.channel_handlers))
    finally:
        await db.close()


async def enqueue_many(
    rt: Runtime, count: int, channel: str = "push", event: str = "notice.published"
) -> None:
    async with rt.db.transaction():
        for i in range(count):
            await outbox.enqueue(rt, channel=channel, event=event, aggregate_id=f"agg-{i}", payload={"n": i})


async def all_rows() -> list[dict[str, object]]:
    return await OutboxMessage.select().order_by(OutboxMessage.id)


async def row(message_id: int) -> dict[str, object]:
    found = await OutboxMessage.select().where(OutboxMessage.id == message_id).first()
    assert found is not None
    return found


class Boom(Exception):
    pass


# --- enqueue -------------------------------------------------------------------------------------


async def test_enqueue_in_a_rolled_back_transaction_leaves_no_row(rt):
    with pytest.raises(Boom):
        async with rt.db.transaction():
            await outbox.enqueue(rt, channel="push", event="notice.published", aggregate_id="n1", payload={})
            # Visible to its own transaction...
            assert await OutboxMessage.count() == 1
            raise Boom
    # ...and gone with it.
    assert await OutboxMessage.count() == 0
    assert await outbox.pending_count(rt) == 0


async def test_enqueue_in_a_committed_transaction_writes_a_pending_row(rt, clock):
    async with rt.db.transaction():
        await outbox.enqueue(
            rt, channel="mqtt", event="notice.published", aggregate_id="n1", payload={"title": "Tiêm chủng"}
        )
    [message] = await all_rows()
    assert message["channel"] == "mqtt"
    assert message["event"] == "notice.published"
    assert message["aggregate_id"] == "n1"
    assert message["status"] == "pending"
    assert message["attempts"] == 0
    assert message["available_at"] == clock.now()
    assert message["lease_owner"] is None
    assert await outbox.pending_count(rt, "mqtt") == 1
    assert await outbox.pending_count(rt, "push") == 0


async def test_enqueue_rejects_an_unknown_channel(rt):
    with pytest.raises(ValueError, match="unknown channel"):
        await outbox.enqueue(rt, channel="fax", event="e", aggregate_id="a", payload={})
    assert await OutboxMessage.count() == 0


# --- delivery ------------------------------------------------------------------------------------


async def test_worker_delivers_pending_rows_and_marks_them_done(rt, clock, effects):
    await enqueue_many(rt, 3, channel="push")
    await enqueue_many(rt, 2, channel="mqtt")
    received: list[ClaimedMessage] = []

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        received.append(message)
        await effects.deliver(rt_, message)

    rt.channel_handlers = {"push": handler}
    clock.advance(seconds=5)
    assert await OutboxWorker(rt, worker_id="w1").drain() == 3

    rows = await all_rows()
    push = [r for r in rows if r["channel"] == "push"]
    assert [m.id for m in received] == [r["id"] for r in push]
    assert [m.payload for m in received] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [m.aggregate_id for m in received] == ["agg-0", "agg-1", "agg-2"]
    assert all(m.attempts == 1 for m in received)
    for r in push:
        assert r["status"] == "done"
        assert r["done_at"] == clock.now()
        assert r["lease_until"] is None
        assert r["lease_owner"] == "w1"
        assert r["attempts"] == 1
    assert set(await effects.rows(rt)) == {r["id"] for r in push}
    assert await outbox.pending_count(rt, "push") == 0


async def test_an_urgent_row_is_claimed_before_everything_queued_ahead_of_it(rt, clock, effects):
    """An emergency approved behind thousands of queued rows (desired states of newly provisioned
    devices) does not wait for them; rows of equal precedence keep their order."""
    await enqueue_many(rt, 30, channel="devices")
    async with rt.db.transaction():
        await outbox.enqueue(
            rt, channel="mqtt", event="published", aggregate_id="sos", payload={}, urgent=True
        )
    await enqueue_many(rt, 2, channel="devices")
    order: list[str] = []

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        order.append(message.aggregate_id)

    rt.channel_handlers = {"devices": handler, "mqtt": handler}
    worker = OutboxWorker(rt, worker_id="w1", batch=5)
    assert await worker.run_once() == 5
    assert order == ["sos", "agg-0", "agg-1", "agg-2", "agg-3"]
    await worker.drain()
    assert order[5:] == [f"agg-{n}" for n in range(4, 30)] + ["agg-0", "agg-1"]


async def test_channels_without_a_handler_stay_pending(rt, clock, effects):
    await enqueue_many(rt, 2, channel="mqtt")
    await enqueue_many(rt, 1, channel="push")
    rt.channel_handlers = {"push": effects.deliver}
    worker = OutboxWorker(rt, worker_id="w1")
    assert await worker.drain() == 1
    clock.advance(hours=2)
    assert await worker.drain() == 0

    mqtt = [r for r in await all_rows() if r["channel"] == "mqtt"]
    assert len(mqtt) == 2
    for r in mqtt:
        # Not even claimed: no attempt spent, no lease taken.
        assert r["status"] == "pending"
        assert r["attempts"] == 0
        assert r["lease_owner"] is None
        assert r["lease_until"] is None
    assert await outbox.pending_count(rt, "mqtt") == 2
    assert await outbox.pending_count(rt) == 2


async def test_a_worker_without_handlers_claims_nothing(rt):
    await enqueue_many(rt, 2)
    rt.channel_handlers = {}
    assert await OutboxWorker(rt).run_once() == 0
    assert await outbox.claim(rt, "w", [], limit=10) == []
    assert all(r["attempts"] == 0 for r in await all_rows())


# --- failure, backoff, retry-later, dead ---------------------------------------------------------


async def test_a_failing_handler_puts_the_row_back_with_backoff(rt, clock, effects):
    await enqueue_many(rt, 1)
    failing = True

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        if failing:
            raise ConnectionError("gateway unreachable")
        await effects.deliver(rt_, message)

    rt.channel_handlers = {"push": handler}
    worker = OutboxWorker(rt, worker_id="w1")
    failed_at = clock.now()
    assert await worker.run_once() == 1

    [r] = await all_rows()
    assert r["status"] == "pending"
    assert r["attempts"] == 1
    assert r["last_error"] == "ConnectionError: gateway unreachable"
    assert r["lease_owner"] is None
    assert r["lease_until"] is None
    assert r["done_at"] is None
    # Backoff after the first attempt: in the future, at most 2**1 seconds away.
    assert failed_at < r["available_at"] <= failed_at + timedelta(seconds=2)

    # Not retried before it is due.
    assert await worker.run_once() == 0
    assert (await row(r["id"]))["attempts"] == 1

    clock.set(r["available_at"])
    failing = False
    assert await worker.run_once() == 1
    after = await row(r["id"])
    assert after["status"] == "done"
    assert after["attempts"] == 2
    assert (await effects.rows(rt))[r["id"]]["attempt"] == 2


def test_backoff_grows_with_attempts_and_is_capped_at_an_hour():
    for attempts in range(1, 30):
        for _ in range(50):
            delay = outbox.backoff_seconds(attempts)
            assert 0 <= delay <= min(3600.0, 2.0**attempts)
    assert max(outbox.backoff_seconds(12) for _ in range(500)) > 2.0**11


async def test_retry_later_is_honoured(rt, clock, effects):
    await enqueue_many(rt, 1)
    asked = 0

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        nonlocal asked
        if asked == 0:
            asked += 1
            raise RetryLater("429 Too Many Requests", after_seconds=30)
        await effects.deliver(rt_, message)

    rt.channel_handlers = {"push": handler}
    worker = OutboxWorker(rt, worker_id="w1")
    start = clock.now()
    assert await worker.run_once() == 1

    [r] = await all_rows()
    assert r["status"] == "pending"
    assert r["attempts"] == 1
    assert r["last_error"] == "429 Too Many Requests"
    assert r["available_at"] == start + timedelta(seconds=30)

    clock.advance(seconds=29)
    assert await worker.run_once() == 0
    clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert (await row(r["id"]))["status"] == "done"
    assert set(await effects.rows(rt)) == {r["id"]}


async def test_retry_later_without_a_time_uses_backoff(rt, clock):
    await enqueue_many(rt, 1)

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        raise RetryLater("busy")

    rt.channel_handlers = {"push": handler}
    start = clock.now()
    assert await OutboxWorker(rt).run_once() == 1
    [r] = await all_rows()
    assert r["last_error"] == "busy"
    assert start < r["available_at"] <= start + timedelta(seconds=2)


async def test_after_max_attempts_the_row_is_dead(rt, clock):
    await enqueue_many(rt, 1)
    seen: list[int] = []

    async def handler(rt_: Runtime, message: ClaimedMessage) -> None:
        seen.append(message.attempts)
        raise RuntimeError(f"failure {message.attempts}")

    rt.channel_handlers = {"push": handler}
    worker = OutboxWorker(rt, worker_id="w1")
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        assert await worker.run_once() == 1
        r = (await all_rows())[0]
        assert r["attempts"] == attempt
        assert r["last_error"] == f"RuntimeError: failure {attempt}"
        expected = "dead" if attempt == outbox.MAX_ATTEMPTS else "pending"
        assert r["status"] == expected
        clock.advance(seconds=3601)  # past any backoff

    assert seen == list(range(1, outbox.MAX_ATTEMPTS + 1))
    clock.advance(days=30)
    assert await worker.drain() == 0
    assert seen == list(range(1, outbox.MAX_ATTEMPTS + 1))
    assert await outbox.pending_count(rt) == 0


# --- leases: a crashed worker --------------------------------------------------------------------


@pytest.mark.parametrize("delivered_before_crash", [True, False], ids=["crash-after-effect", "crash-before"])
async def test_a_crashed_workers_row_is_taken_over_after_its_lease(
    rt, clock, effects, delivered_before_crash
):
    await enqueue_many(rt, 1)
    rt.channel_handlers = {"push": effects.deliver}

    # Worker A claims, maybe performs the effect, then dies without completing.
    [taken] = await outbox.claim(rt, "worker-a", ["push"])
    assert taken.attempts == 1
    if delivered_before_crash:
        await effects.deliver(rt, taken)
    r = await row(taken.id)
    assert r["lease_owner"] == "worker-a"
    assert r["lease_until"] == clock.now() + timedelta(seconds=outbox.LEASE_SECONDS)
    assert r["status"] == "pending"

    # While the lease runs, worker B finds nothing (up to and including the expiry instant).
    worker_b = OutboxWorker(rt, worker_id="worker-b")
    assert await outbox.claim(rt, "worker-b", ["push"]) == []
    clock.advance(seconds=outbox.LEASE_SECONDS - 1)
    assert await worker_b.run_once() == 0
    clock.advance(seconds=1)
    assert await worker_b.run_once() == 0
    assert (await row(taken.id))["attempts"] == 1

    # Past the lease, B takes it over as the second attempt.
    clock.advance(seconds=1)
    [retaken] = await outbox.claim(rt, "worker-b", ["push"])
    assert retaken.id == taken.id
    assert retaken.attempts == 2
    assert (await row(taken.id))["lease_owner"] == "worker-b"

    # A comes back to life: its completion is refused and changes nothing.
    assert await outbox.complete(rt, taken, "worker-a") is False
    r = await row(taken.id)
    assert r["status"] == "pending"
    assert r["lease_owner"] == "worker-b"

    await worker_b.process(retaken)
    done = await row(taken.id)
    assert done["status"] == "done"
    assert done["attempts"] == 2
    assert done["done_at"] == clock.now()

    # Late words from A after B finished are refused too, and cannot resurrect the row.
    assert await outbox.complete(rt, taken, "worker-a") is False
    await outbox.fail(rt, taken, "worker-a", "late failure")
    assert await row(taken.id) == done

    # The effect happened exactly once, whoever performed it.
    effect_rows = await effects.rows(rt)
    assert set(effect_rows) == {taken.id}
    assert effect_rows[taken.id]["attempt"] == (1 if delivered_before_crash else 2)
    assert effects.calls[taken.id] == (2 if delivered_before_crash else 1)

    clock.advance(hours=1)
    assert await worker_b.drain() == 0


async def test_a_lease_is_not_renewed_by_claiming_again(rt, clock):
    await enqueue_many(rt, 1)
    [first] = await outbox.claim(rt, "worker-a", ["push"])
    # The same worker asking again gets nothing: a held lease is held, whoever asks.
    assert await outbox.claim(rt, "worker-a", ["push"]) == []
    assert (await row(first.id))["attempts"] == 1


# --- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_claims_never_share_a_row_and_together_take_all(rt, second_process):
    await enqueue_many(rt, 200)
    ids = {r["id"] for r in await all_rows()}
    assert len(ids) == 200

    processes = [rt, second_process]
    claimed: dict[str, list[int]] = {}

    async def claimer(process: Runtime, worker_id: str) -> None:
        mine = claimed.setdefault(worker_id, [])
        while batch := await outbox.claim(process, worker_id, ["push"], limit=7):
            assert all(m.attempts == 1 for m in batch)
            mine.extend(m.id for m in batch)
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer(processes[i % 2], f"w{i:02d}") for i in range(12)))

    every_claim = [i for ids_ in claimed.values() for i in ids_]
    assert len(every_claim) == len(set(every_claim)), "a row was claimed twice"
    assert set(every_claim) == ids
    # The database agrees with what each worker was told.
    owner = {i: w for w, ids_ in claimed.items() for i in ids_}
    for r in await all_rows():
        assert r["lease_owner"] == owner[r["id"]]
        assert r["attempts"] == 1


async def test_a_single_round_of_concurrent_claims_is_disjoint(rt, second_process):
    await enqueue_many(rt, 200)
    processes = [rt, second_process]
    batches = await asyncio.gather(
        *(outbox.claim(processes[i % 2], f"w{i:02d}", ["push"], limit=5) for i in range(40))
    )
    every_claim = [m.id for batch in batches for m in batch]
    assert len(every_claim) == len(set(every_claim))
    leftover = await outbox.claim(rt, "sweeper", ["push"], limit=500)
    assert len(every_claim) + len(leftover) == 200
    assert {m.id for m in leftover}.isdisjoint(every_claim)


async def test_concurrent_workers_deliver_every_row_exactly_once(rt, second_process, effects):
    await enqueue_many(rt, 120)
    rt.channel_handlers = {"push": effects.deliver}
    second_process.channel_handlers = {"push": effects.deliver}
    workers = [
        OutboxWorker(process, worker_id=f"w{i}", batch=9)
        for i, process in enumerate([rt, second_process, rt, second_process, rt, second_process])
    ]
    delivered = await asyncio.gather(*(w.drain(max_rounds=1000) for w in workers))

    assert sum(delivered) == 120
    assert await outbox.pending_count(rt) == 0
    rows = await all_rows()
    assert {r["status"] for r in rows} == {"done"}
    assert set(await effects.rows(rt)) == {r["id"] for r in rows}
    assert set(effects.calls.values()) == {1}
