"""CAP benchmark: turning notice outbox rows into CAP 1.2 messages, and building the Atom index.

Workload: N published notices (two language versions, two target villages each, one audio
attachment) whose ``cap`` outbox rows the worker drains. The baseline is the same worker draining
the same number of rows with a handler that does nothing, in the same process on the same database,
so the ratio is the cost of building, rendering and storing a CAP message on top of the outbox
itself. The Atom index (current alerts, at most 500 entries) is timed against a baseline of the
bare ``SELECT`` it starts from::

    python -m bench.bench_cap                    # a temporary SQLite file, 2,000 notices
    python -m bench.bench_cap --notices 5000 --database-url postgres://postgres@127.0.0.1:5432/keng_bench

A ``--database-url`` must name an empty database (create it before, drop it after).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import platform
import tempfile
import uuid
from pathlib import Path
from time import perf_counter

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.broadcast.cap import cap_channel_handler
from backend.broadcast.cap import services as cap
from backend.broadcast.cap.render import render_atom
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox import services as outbox
from backend.core.outbox.services import ClaimedMessage, OutboxWorker
from backend.lib import migrations
from backend.lib.db import Database
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES

TREE = [
    ("VN", "Việt Nam", None, "nation"),
    ("38", "Thanh Hóa", "VN", "province"),
    *[(f"38{c:03d}", f"Xã {c}", "38", "commune") for c in range(1, 21)],
    *[
        (f"38{c:03d}-{v:02d}", f"Thôn {v}", f"38{c:03d}", "village")
        for c in range(1, 21)
        for v in range(1, 6)
    ],
]
AUDIO = {"kind": "audio", "mime_type": "audio/mpeg", "size": 48213, "sha256": "a" * 64, "name": "Bản tin"}


async def _seed(rt: Runtime, count: int) -> list[str]:
    records = [areas.AreaRecord(code=c, name=n, parent_code=p, level=lvl) for c, n, p, lvl in TREE]
    async with rt.db.transaction():
        await areas.import_records(rt, records)
    now = rt.clock.now()
    ids = []
    async with rt.db.transaction():
        for i in range(count):
            nid = uuid.uuid4()
            ids.append(str(nid))
            commune = 1 + i % 20
            await Notice.insert(
                Notice(
                    id=nid,
                    thread_id=nid,
                    version=1,
                    msg_type="alert",
                    status="published",
                    category=("health", "disaster", "agriculture", "elections")[i % 4],
                    priority=("normal", "priority", "emergency")[i % 3],
                    owner_area="38",
                    owner_path="/VN/38/",
                    texts={
                        "vi": {"title": f"Thông báo {i}", "body": "Nội dung thông báo " * 20, "summary": ""},
                        "en": {"title": f"Notice {i}", "body": "Notice text " * 20, "summary": ""},
                    },
                    attachments=[AUDIO],
                    created_by=uuid.uuid4(),
                    published_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            await NoticeTarget.insert(
                *[
                    NoticeTarget(
                        notice=nid,
                        area_code=f"38{commune:03d}-{v:02d}",
                        area_path=f"/VN/38/38{commune:03d}/38{commune:03d}-{v:02d}/",
                    )
                    for v in (1, 2)
                ]
            )
    return ids


async def _enqueue(rt: Runtime, ids: list[str]) -> None:
    async with rt.db.transaction():
        for nid in ids:
            payload = {
                "notice_id": nid,
                "thread_id": nid,
                "version": 1,
                "msg_type": "alert",
                "priority": "normal",
            }
            await outbox.enqueue(rt, channel="cap", event="published", aggregate_id=nid, payload=payload)


async def _drain(rt: Runtime, handler) -> float:
    worker = OutboxWorker(dataclasses.replace(rt, channel_handlers={"cap": handler}), batch=100)
    started = perf_counter()
    await worker.drain(max_rounds=1_000_000)
    return perf_counter() - started


async def _nothing(rt: Runtime, message: ClaimedMessage) -> None:
    return None


async def run(database_url: str, count: int) -> None:
    db = Database(database_url)
    async with db.session(ALL_TABLES):
        await migrations.migrate(db)
        with tempfile.TemporaryDirectory() as keys:
            rt = Runtime.open(Settings(data_dir=Path(keys)), db, SystemClock(), InMemoryBus())
            await categories.seed_defaults(rt)
            ids = await _seed(rt, count)
            await _enqueue(rt, ids)
            baseline = await _drain(rt, _nothing)
            await _enqueue(rt, ids)
            real = await _drain(rt, cap_channel_handler)
            written = int(await db.fetchval('SELECT count(*) AS n FROM "cap_message"'))
            assert written == count, (written, count)

            rounds = 20
            started = perf_counter()
            for _ in range(rounds):
                await db.fetch('SELECT "identifier" FROM "cap_message" ORDER BY "sent" DESC LIMIT 500')
            bare = (perf_counter() - started) / rounds
            started = perf_counter()
            for _ in range(rounds):
                entries = await cap.current_alerts(rt)
                render_atom(
                    feed_url="http://x/cap/atom.xml",
                    alert_url="http://x/cap/alerts/{identifier}.xml",
                    title="t",
                    author="a",
                    updated=rt.clock.now(),
                    entries=entries,
                )
            atom = (perf_counter() - started) / rounds

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"database: {db.dialect}; notices: {count}")
    print(f"outbox drain, no-op handler : {baseline:8.3f} s  ({count / baseline:8.0f} rows/s)")
    print(
        f"outbox drain, CAP handler   : {real:8.3f} s  ({count / real:8.0f} messages/s)  ratio {real / baseline:.2f}x"
    )
    print(f"bare SELECT of 500 messages : {bare * 1000:8.2f} ms")
    print(f"Atom index ({len(entries)} entries)   : {atom * 1000:8.2f} ms  ratio {atom / bare:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notices", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.notices))


if __name__ == "__main__":
    main()
