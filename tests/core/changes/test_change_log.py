"""The change log: a gap-free, commit-ordered sequence that sync cursors can trust.

The concurrency tests run unchanged on both engines. On PostgreSQL each transaction has its own
pooled connection and writers queue on the counter row's lock; on SQLite ``BEGIN IMMEDIATE``
serialises them. Either way a reader must only ever see ``1..m``: a hole that filled in later
would make a sync client skip a change for good."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from backend.core.changes import services as changes
from backend.core.changes.services import Change
from backend.core.changes.tables import ChangeArea, ChangeCounter, ChangeLog
from backend.lib.db import Database
from backend.runtime import Runtime


class Rollback(Exception):
    pass


async def log_seqs(db: Database) -> list[int]:
    return [int(r["seq"]) for r in await db.fetch('SELECT "seq" FROM "change_log" ORDER BY "seq"')]


async def record_one(rt: Runtime, row_id: str, paths: tuple[str, ...] = ("/VN/38/",)) -> int:
    async with rt.db.transaction():
        return await changes.record_change(
            rt, table="notice", row_id=row_id, op="upsert", area_paths=paths, actor_id=None
        )


@pytest.fixture
async def reader_db(rt: Runtime) -> AsyncIterator[Database]:
    """A second process's view of the database (its own pool on PostgreSQL)."""
    db = Database(rt.db.url)
    await db.connect()
    try:
        yield db
    finally:
        await db.close()


async def test_record_change_outside_a_transaction_raises(rt):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await changes.record_change(
            rt, table="notice", row_id="n1", op="upsert", area_paths=["/VN/"], actor_id=None
        )
    with pytest.raises(RuntimeError):
        await changes.record_changes(rt, [Change("notice", "n1", "delete", ("/VN/",))], None)
    assert await ChangeLog.count() == 0
    assert await ChangeArea.count() == 0
    assert await changes.high_water_mark(rt) == 0


async def test_record_changes_with_nothing_to_record_takes_no_number(rt):
    assert await changes.record_changes(rt, [], None) == []
    assert await changes.high_water_mark(rt) == 0


async def test_sequences_are_contiguous_from_one_and_ordered(rt):
    actor = uuid.uuid4()
    seqs = []
    for i in range(7):
        async with rt.db.transaction():
            seqs.append(
                await changes.record_change(
                    rt,
                    table="notice",
                    row_id=f"n{i}",
                    op="delete" if i == 3 else "upsert",
                    area_paths=["/VN/38/"],
                    actor_id=actor,
                )
            )
    assert seqs == list(range(1, 8))

    # A multi-change write takes one consecutive block.
    async with rt.db.transaction():
        block = await changes.record_changes(
            rt, [Change("notice", f"b{i}", "upsert", ("/VN/",)) for i in range(5)], actor
        )
    assert block == list(range(8, 13))

    logged = await changes.changes_since(rt, 0)
    assert [r["seq"] for r in logged] == list(range(1, 13))
    assert [r["row_id"] for r in logged] == [f"n{i}" for i in range(7)] + [f"b{i}" for i in range(5)]
    assert logged[3]["op"] == "delete"
    assert {r["actor_id"] for r in logged} == {actor}
    assert {r["table_name"] for r in logged} == {"notice"}
    assert await changes.high_water_mark(rt) == 12

    assert [r["seq"] for r in await changes.changes_since(rt, 9)] == [10, 11, 12]
    assert [r["seq"] for r in await changes.changes_since(rt, 2, limit=3)] == [3, 4, 5]
    assert await changes.changes_since(rt, 12) == []


async def test_reserve_seqs_hands_out_consecutive_blocks(rt):
    async with rt.db.transaction():
        assert await changes.reserve_seqs(rt, 3) == range(1, 4)
        assert await changes.reserve_seqs(rt, 1) == range(4, 5)
        assert await changes.reserve_seqs(rt, 1000) == range(5, 1005)
    assert await changes.high_water_mark(rt) == 1004


async def test_bulk_changes_beyond_one_insert_chunk(rt):
    batch = [Change("area", f"a{i}", "upsert", (f"/VN/{i}/", "/VN/")) for i in range(1203)]
    async with rt.db.transaction():
        seqs = await changes.record_changes(rt, batch, None)
    assert seqs == list(range(1, 1204))
    assert await log_seqs(rt.db) == seqs
    assert await ChangeArea.count() == 2 * 1203


async def test_a_rolled_back_writer_gives_its_number_back(rt):
    assert await record_one(rt, "first") == 1

    with pytest.raises(Rollback):
        async with rt.db.transaction():
            taken = await changes.record_change(
                rt, table="notice", row_id="doomed", op="upsert", area_paths=["/VN/38/"], actor_id=None
            )
            assert taken == 2
            assert await changes.high_water_mark(rt) == 2  # visible inside its own transaction only
            raise Rollback

    assert await changes.high_water_mark(rt) == 1
    assert await record_one(rt, "second") == 2
    logged = await changes.changes_since(rt, 0)
    assert [(r["seq"], r["row_id"]) for r in logged] == [(1, "first"), (2, "second")]
    # The rolled-back change's areas went with it.
    assert sorted(r["seq"] for r in await ChangeArea.select(ChangeArea.seq)) == [1, 2]


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
async def test_a_waiting_writer_gets_the_next_number_or_the_returned_one(rt, first_commits):
    """Writer A holds a number while B tries to record: B gets A's number if A rolls back, the next
    one if A commits. B's wait happens on the counter row (PostgreSQL) or on the write lock
    (SQLite); either way the numbers stay gap-free."""
    a_recorded = asyncio.Event()
    b_waiting = asyncio.Event()

    async def writer_a() -> None:
        async with rt.db.transaction():
            assert (
                await changes.record_change(
                    rt, table="notice", row_id="a", op="upsert", area_paths=["/VN/"], actor_id=None
                )
                == 1
            )
            a_recorded.set()
            await b_waiting.wait()
            for _ in range(20):  # let B reach the lock
                await asyncio.sleep(0.005)
            if not first_commits:
                raise Rollback

    async def writer_b() -> int:
        await a_recorded.wait()
        b_waiting.set()
        return await record_one(rt, "b")

    results = await asyncio.gather(writer_a(), writer_b(), return_exceptions=True)
    b_seq = results[1]
    if first_commits:
        assert results[0] is None
        assert b_seq == 2
        expected = [(1, "a"), (2, "b")]
    else:
        assert isinstance(results[0], Rollback)
        assert b_seq == 1
        expected = [(1, "b")]
    assert [(r["seq"], r["row_id"]) for r in await changes.changes_since(rt, 0)] == expected


async def test_change_area_rows_for_each_path(rt):
    async with rt.db.transaction():
        one = await changes.record_change(
            rt,
            table="notice",
            row_id="n1",
            op="upsert",
            area_paths=["/VN/38/38001/", "/VN/38/", "/VN/38/38001/", "/VN/40/"],
            actor_id=None,
        )
        none = await changes.record_change(
            rt, table="category", row_id="health", op="upsert", area_paths=[], actor_id=None
        )
        several = await changes.record_changes(
            rt,
            [
                Change("notice", "n2", "upsert", ("/VN/40/40001/",)),
                Change("notice", "n3", "delete", ("/VN/38/", "/VN/")),
            ],
            None,
        )
    assert (one, none, several) == (1, 2, [3, 4])

    areas = await ChangeArea.select(ChangeArea.seq, ChangeArea.area_path)
    by_seq: dict[int, set[str]] = {}
    for r in areas:
        by_seq.setdefault(int(r["seq"]), set()).add(r["area_path"])
    assert by_seq == {
        1: {"/VN/38/38001/", "/VN/38/", "/VN/40/"},
        3: {"/VN/40/40001/"},
        4: {"/VN/38/", "/VN/"},
    }
    # Duplicated paths are stored once.
    assert len(areas) == 6
    # Every area row belongs to a logged change.
    assert set(by_seq) <= {int(r["seq"]) for r in await ChangeLog.select(ChangeLog.seq)}


async def test_concurrent_writers_leave_no_gap_and_a_reader_never_sees_one(rt, reader_db):
    writers = 20
    rolls_back = {i for i in range(writers) if i % 4 == 1}
    changes_of = {i: 1 + i % 3 for i in range(writers)}  # 1, 2 or 3 changes each
    done = asyncio.Event()
    snapshots: list[list[int]] = []
    returned: dict[int, list[int]] = {}

    async def writer(i: int) -> None:
        await asyncio.sleep(0)
        async with rt.db.transaction():
            seqs = []
            for k in range(changes_of[i]):
                seqs.append(
                    await changes.record_change(
                        rt,
                        table="notice",
                        row_id=f"w{i:02d}-{k}",
                        op="upsert",
                        area_paths=[f"/VN/{i}/"],
                        actor_id=None,
                    )
                )
                # Hold the transaction open so other writers queue up and the reader polls.
                await asyncio.sleep(0.002)
            if i in rolls_back:
                raise Rollback
            returned[i] = seqs

    async def run_writers() -> list[object]:
        try:
            return await asyncio.gather(*(writer(i) for i in range(writers)), return_exceptions=True)
        finally:
            done.set()

    async def reader() -> None:
        while not done.is_set():
            snapshots.append(await log_seqs(reader_db))
            await asyncio.sleep(0)
        snapshots.append(await log_seqs(reader_db))

    outcomes, _ = await asyncio.gather(run_writers(), reader())

    for i, outcome in enumerate(outcomes):
        if i in rolls_back:
            assert isinstance(outcome, Rollback), outcome
        else:
            assert outcome is None, outcome

    committed = sum(changes_of[i] for i in range(writers) if i not in rolls_back)
    final = await log_seqs(rt.db)
    assert final == list(range(1, committed + 1))
    assert await changes.high_water_mark(rt) == committed

    # Each committed writer got a consecutive block: the counter is held until commit.
    for i, seqs in returned.items():
        assert seqs == list(range(seqs[0], seqs[0] + changes_of[i])), (i, seqs)
    assert sorted(s for seqs in returned.values() for s in seqs) == final

    # Rolled-back writers left nothing behind, in either table.
    logged = await changes.changes_since(rt, 0, limit=1000)
    assert {r["row_id"].split("-")[0] for r in logged} == {f"w{i:02d}" for i in returned}
    area_seqs = {int(r["seq"]) for r in await ChangeArea.select(ChangeArea.seq)}
    assert area_seqs == set(final)

    # The reader only ever saw a contiguous prefix, and each view extended the previous one.
    assert snapshots, "the reader never ran"
    previous: list[int] = []
    for seen in snapshots:
        assert seen == list(range(1, len(seen) + 1)), f"hole in {seen}"
        assert len(seen) >= len(previous), "a change disappeared"
        previous = seen
    assert snapshots[-1] == final


async def test_the_counter_row_is_the_single_source_of_numbers(rt):
    [counter] = await ChangeCounter.select()
    assert counter == {"id": 1, "value": 0}
    await record_one(rt, "n1")
    await record_one(rt, "n2")
    assert await ChangeCounter.select() == [{"id": 1, "value": 2}]
