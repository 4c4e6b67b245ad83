"""Staff feedback queue benchmark on PostgreSQL: listing, filters, search and deep keyset pages over
100,000 reports; the dashboard and the yearly report.

It seeds a fresh PostgreSQL database with a province of 30 communes (90 villages), 100,000 reports
spread over 400 days with their handling records (units, assignees, deadlines, the folded search
text) and history (submission, answers, ratings), written with COPY. Then, in this one process, each
queue scenario calls ``officials.feedback.services.queue`` (the code behind
``GET /api/v1/staff/feedback``: scope, filters, search, keyset cursor, unit names) for a province
handler, ``--runs`` times in a row; its baseline is a bare indexed SELECT of the same first page (same
scope, order and limit, no filters) through the same engine, interleaved one for one. Search runs
twice: with the trigram index and with it dropped, to show what it buys. The dashboard (12 months)
and the yearly report are timed a few times each::

    python -m bench.bench_feedback_queue                       # temporary database, 100,000 reports
    python -m bench.bench_feedback_queue --reports 20000 --runs 50

The database is created on ``KENG_BENCH_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.core.accounts.permissions import Actor, Role
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.lib import migrations
from backend.lib.db import Database
from backend.lib.i18n import fold
from backend.lib.paging import encode_cursor
from backend.officials.feedback import services as queue_services
from backend.officials.feedback.schemas import QueueFilter
from backend.officials.feedback.tables import HandlingUnit
from backend.officials.reports import services as reports
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from bench.bench_feed import cpu_model, database_version, percentile
from bench.bench_feedback import fresh_postgres
from bench.common import staff

PROVINCE = "38"
COMMUNES = 30
VILLAGES = 3
STAFF = 20
CATEGORIES = [c for c, _, _ in categories.DEFAULT_CATEGORIES]
SUBJECTS = [
    "Đường liên thôn",
    "Đèn chiếu sáng công cộng",
    "Cống thoát nước",
    "Bãi rác tự phát",
    "Trạm y tế xã",
    "Trường tiểu học",
    "Chợ tạm",
    "Kênh mương nội đồng",
    "Cầu treo",
    "Nhà văn hóa thôn",
    "Loa truyền thanh",
    "Trụ điện",
]
PROBLEMS = [
    "bị hỏng nhiều ngày",
    "xuống cấp nghiêm trọng",
    "ngập úng sau mưa lớn",
    "bốc mùi hôi thối",
    "chưa được sửa chữa",
    "gây mất an toàn giao thông",
    "phát âm thanh quá to vào buổi trưa",
    "bị lấn chiếm",
]
PLACES = ["gần UBND xã", "cạnh cổng trường", "đầu ngõ xóm {n}", "tại thôn {n}", "trước nhà văn hóa"]
RARE = "hố ga mất nắp"  # in about one report in a thousand
STATUSES = [
    ("received", 10),
    ("accepted", 5),
    ("assigned", 10),
    ("in_progress", 10),
    ("waiting_for_citizen", 5),
    ("reopened", 2),
    ("answered", 35),
    ("resolved", 15),
    ("forwarded", 3),
    ("duplicate", 3),
    ("rejected", 2),
]
ANSWERED = {"answered", "resolved"}


@dataclass
class Seeded:
    actor: Actor
    assignee: uuid.UUID
    commune: str
    deep_cursor: str
    seconds: float


def _text(rng: random.Random) -> str:
    place = rng.choice(PLACES).format(n=rng.randint(1, 12))
    text = f"{rng.choice(SUBJECTS)} {place} {rng.choice(PROBLEMS)}, đề nghị xã kiểm tra và xử lý sớm."
    if rng.random() < 0.001:
        text = f"Có {RARE} {place}, rất nguy hiểm cho trẻ em."
    return text


async def seed(rt: Runtime, url: str, total: int, rng: random.Random) -> Seeded:
    started = time.perf_counter()
    records = [
        areas.AreaRecord(code="VN", name="Việt Nam", parent_code=None, level="nation"),
        areas.AreaRecord(code=PROVINCE, name="Thanh Hóa", parent_code="VN", level="province"),
    ]
    communes = [f"{PROVINCE}{i:03d}" for i in range(1, COMMUNES + 1)]
    for code in communes:
        records.append(areas.AreaRecord(code=code, name=f"Xã {code}", parent_code=PROVINCE, level="commune"))
        records += [
            areas.AreaRecord(code=f"{code}-{v:02d}", name=f"Thôn {v}", parent_code=code, level="village")
            for v in range(1, VILLAGES + 1)
        ]
    async with rt.db.transaction():
        await areas.import_records(rt, records)
    units = {}
    for code in communes:
        unit_id = uuid.uuid4()
        await HandlingUnit.insert(
            HandlingUnit(
                id=unit_id, name=f"UBND xã {code}", area_code=code, area_path=f"/VN/{PROVINCE}/{code}/"
            )
        )
        units[code] = unit_id
    handler = await staff(rt, Role.FEEDBACK_HANDLER, PROVINCE)
    people = [(await staff(rt, Role.COMMUNE_OFFICIAL, rng.choice(communes))).account_id for _ in range(STAFF)]
    now = datetime.now(UTC)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    feedback_rows, handling_rows, events = [], [], []
    for _ in range(total):
        fid = uuid.uuid4()
        commune = rng.choice(communes)
        village = f"{commune}-{rng.randint(1, VILLAGES):02d}"
        path = f"/VN/{PROVINCE}/{commune}/{village}/"
        created = now - timedelta(seconds=rng.uniform(0, 400 * 86400))
        status = rng.choices(statuses, weights)[0]
        category = rng.choice(CATEGORIES)
        text = _text(rng)
        token = secrets.token_urlsafe(12)
        address = f"Thôn {village[-2:]}, xã {commune}"
        answered_at = created + timedelta(hours=rng.uniform(2, 400)) if status in ANSWERED else None
        rating = rng.randint(1, 5) if answered_at and rng.random() < 0.3 else None
        feedback_rows.append(
            (
                fid,
                token,
                f"b-{fid.hex}",
                "app",
                category,
                village,
                path,
                None,
                None,
                address,
                "",
                text,
                True,
                "{}",
                status,
                "",
                rating,
                answered_at,
                created,
                answered_at or created,
            )
        )
        triage = rng.random() < 0.1
        assignee = rng.choice(people) if status in ("assigned", "in_progress") or rng.random() < 0.2 else None
        handling_rows.append(
            (
                fid,
                fid,
                category,
                path,
                created,
                fold(f"{text} {address} {token}"),
                None if triage else units[commune],
                triage,
                assignee,
                created + timedelta(days=1),
                created + timedelta(days=12),
                created + timedelta(days=10),
                created + timedelta(hours=5) if status != "received" else None,
                False,
                None,
            )
        )
        events.append((fid, created, "submitted", "", "received", "", None, True, None, "citizen"))
        if answered_at:
            events.append(
                (
                    fid,
                    answered_at,
                    "answer",
                    "in_progress",
                    "answered",
                    "Đã xử lý xong.",
                    None,
                    True,
                    assignee,
                    "commune_official",
                )
            )
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "feedback",
            records=feedback_rows,
            columns=[
                "id",
                "token",
                "client_id",
                "source",
                "category",
                "area_code",
                "area_path",
                "lat",
                "long",
                "address",
                "media_url",
                "text",
                "anonymous",
                "contact",
                "status",
                "fingerprint",
                "rating",
                "answered_at",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "feedback_handling",
            records=handling_rows,
            columns=[
                "id",
                "feedback",
                "category",
                "path",
                "created_at",
                "search",
                "unit",
                "triage",
                "assignee",
                "ack_due",
                "answer_due",
                "remind_at",
                "acknowledged_at",
                "overdue",
                "possible_duplicate",
            ],
        )
        await conn.copy_records_to_table(
            "feedback_event",
            records=events,
            columns=[
                "feedback",
                "at",
                "kind",
                "from_status",
                "to_status",
                "text",
                "rating",
                "public",
                "actor_id",
                "actor_role",
            ],
        )
        await conn.execute("ANALYZE")
        deep = await conn.fetchrow(
            'SELECT "created_at", "id" FROM "feedback_handling" ORDER BY "created_at" DESC, "id" DESC '
            "OFFSET $1 LIMIT 1",
            total // 2,
        )
    finally:
        await conn.close()
    cursor = encode_cursor({"s": "newest", "v": deep["created_at"].isoformat(), "id": str(deep["id"])})
    return Seeded(
        actor=handler,
        assignee=people[0],
        commune=communes[0],
        deep_cursor=cursor,
        seconds=time.perf_counter() - started,
    )


BASELINE_SQL = (
    'SELECT h."id", h."created_at", h."answer_due", f."token", f."status", f."text" FROM "feedback_handling" h '
    'JOIN "feedback" f ON f."id" = h."feedback" WHERE h."path" LIKE {} '
    'ORDER BY h."created_at" DESC, h."id" DESC LIMIT 51'
)


@dataclass
class Row:
    name: str
    samples: list[float]
    base: list[float]
    found: int

    def p(self, q: float, values: list[float] | None = None) -> float:
        return percentile(values if values is not None else self.samples, q) * 1000


async def measure(
    name: str, runs: int, call: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]]
) -> Row:
    samples, base = [], []
    found = 0
    for _ in range(3):
        await call()
        await baseline()
    for _ in range(runs):
        t0 = time.perf_counter()
        page = await call()
        samples.append(time.perf_counter() - t0)
        found = len(page.items)
        t0 = time.perf_counter()
        await baseline()
        base.append(time.perf_counter() - t0)
    return Row(name, samples, base, found)


def scenarios(seeded: Seeded) -> list[tuple[str, QueueFilter]]:
    month_ago = datetime.now(UTC) - timedelta(days=60)
    return [
        ("newest first page, whole province", QueueFilter()),
        ("state = received", QueueFilter(state="received")),
        ("category + open group", QueueFilter(category="environment", group="open")),
        ("area subtree (one commune)", QueueFilter(area=seeded.commune)),
        ("overdue", QueueFilter(overdue=True)),
        ("assignee", QueueFilter(assignee=str(seeded.assignee))),
        ("triage queue, open", QueueFilter(triage=True, group="open")),
        ("30-day window", QueueFilter(since=month_ago, until=month_ago + timedelta(days=30))),
        ("sort by answer deadline", QueueFilter(sort="due")),
        ("deep keyset page (row 50,000)", QueueFilter(cursor=seeded.deep_cursor)),
    ]


SEARCHES = [
    ("search, common word: 'duong'", "duong"),
    ("search, three words: 'den chieu sang'", "den chieu sang"),
    ("search, rare phrase: 'ho ga mat nap'", "ho ga mat nap"),
    ("search, no match: 'khongcoketqua'", "khongcoketqua"),
    ("search + category: 'cong thoat' environment", "cong thoat"),
]


async def run(args: argparse.Namespace, url: str, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, database_url=url, run_workers=False)
    db = Database(url)
    rng = random.Random(20260302)
    async with db.session(ALL_TABLES):
        await migrations.migrate(db)
        rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
        await categories.seed_defaults(rt)
        seeded = await seed(rt, url, args.reports, rng)
        version = await database_version(db)
        load = os.getloadavg()
        print("Kẻng staff feedback queue benchmark")
        print(
            f"  CPU:      {cpu_model()} — {os.cpu_count()} logical cores, load average {load[0]:.1f} / {load[1]:.1f}"
        )
        print(f"  Python:   {platform.python_implementation()} {platform.python_version()}; {version}")
        print(f"  Data:     {args.reports:,} reports, {COMMUNES} communes, seeded in {seeded.seconds:.0f} s")
        print(
            f"  Runs:     {args.runs} per scenario, each followed by one baseline query (first page, bare SQL)"
        )
        print()
        actor = seeded.actor
        scope = f"/VN/{PROVINCE}/%"

        async def baseline() -> Any:
            return await db.fetch(BASELINE_SQL, scope)

        rows: list[Row] = []
        for name, flt in scenarios(seeded):
            rows.append(
                await measure(name, args.runs, lambda f=flt: queue_services.queue(rt, actor, f), baseline)
            )

        def search_filter(q: str, name: str) -> QueueFilter:
            return QueueFilter(q=q, category="environment") if "category" in name else QueueFilter(q=q)

        with_index = [
            await measure(
                name + " [trigram index]",
                args.runs,
                lambda n=name, q=q: queue_services.queue(rt, actor, search_filter(q, n)),
                baseline,
            )
            for name, q in SEARCHES
        ]
        has_index = await db.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'feedback_handling_search_trgm'"
        )
        without: list[Row] = []
        if has_index:
            await db.execute_ddl("DROP INDEX feedback_handling_search_trgm")
            without = [
                await measure(
                    name + " [no index]",
                    max(10, args.runs // 5),
                    lambda n=name, q=q: queue_services.queue(rt, actor, search_filter(q, n)),
                    baseline,
                )
                for name, q in SEARCHES
            ]
        print("| scenario | rows on page | p50 ms | p99 ms | baseline p50 ms | p50 ratio |")
        print("|---|---|---|---|---|---|")
        for row in [*rows, *with_index, *without]:
            b50 = row.p(0.5, row.base)
            print(
                f"| {row.name} | {row.found} | {row.p(0.5):.1f} | {row.p(0.99):.1f} | {b50:.2f} | "
                f"{row.p(0.5) / b50:.1f}× |"
            )

        timings: dict[str, list[float]] = {
            "dashboard (province, 12 months)": [],
            "yearly report (province)": [],
        }
        year = reports.current_year(rt.clock.now(), settings.report_window_start)
        for _ in range(args.report_runs):
            t0 = time.perf_counter()
            dash = await reports.dashboard(rt, actor, PROVINCE, None, None)
            timings["dashboard (province, 12 months)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await reports.yearly(rt, actor, year, PROVINCE)
            timings["yearly report (province)"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await db.fetch(
            'SELECT h."category", count(*) AS n FROM "feedback_handling" h WHERE h."path" LIKE {} '
            'AND h."created_at" >= {} GROUP BY h."category"',
            scope,
            dash.start,
        )
        bare = time.perf_counter() - t0
        print()
        print("| computation | median ms | min ms | max ms | reports counted |  ")
        print("|---|---|---|---|---|")
        for name, values in timings.items():
            print(
                f"| {name} | {statistics.median(values) * 1000:.0f} | {min(values) * 1000:.0f} | "
                f"{max(values) * 1000:.0f} | {dash.feedback.received if 'dashboard' in name else ''} |"
            )
        print(f"| baseline: one bare GROUP BY count over the same 12 months | {bare * 1000:.0f} | | | |")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="keng-bench-queue-") as tmp:
        async with fresh_postgres(args.postgres) as url:
            await run(args, url, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KENG_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server on which to create the temporary database",
    )
    parser.add_argument("--reports", type=int, default=100_000, help="feedback reports to seed")
    parser.add_argument("--runs", type=int, default=200, help="calls per queue scenario")
    parser.add_argument("--report-runs", type=int, default=5, help="dashboard and yearly report computations")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
