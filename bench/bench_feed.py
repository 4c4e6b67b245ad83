"""Citizen feed benchmark: the feed of citizens following 3 areas, over HTTP, against Litestar's own
hello-world measured the same way in the same run.

It seeds a fresh database (real Vietnamese areas; 10,000 notices by default, most bulk-written with
the rows, targets and change-log entries the lifecycle writes, a few hundred taken through the real
lifecycle with updates, withdrawals and emergencies), then runs each server under uvicorn in a
subprocess on a loopback port and drives it with 200 concurrent httpx clients for a bounded number
of requests::

    python -m bench.bench_feed                                    # a temporary SQLite file
    python -m bench.bench_feed --database-url postgres://postgres@127.0.0.1:5432/keng_bench

A ``--database-url`` must name an empty database (create it before, drop it after).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from backend.adapters.broker import free_port
from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.citizen.feed import services as feed
from backend.citizen.subscriptions import services as subscriptions
from backend.citizen.subscriptions.schemas import SubscriptionsIn
from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.tables import Account
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.changes.services import Change, record_changes
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import ActionIn, NewVersionIn, NoticeIn, NoticeText
from backend.core.notices.tables import Notice, NoticeTarget
from backend.lib import logs, migrations
from backend.lib.db import Database
from backend.lib.tokens import issue_access_token
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from bench.common import require_empty, staff

PROVINCE = "38"  # Thanh Hóa: the followed communes are here
PARENTS_PROVINCE = "40"  # Nghệ An: where the parents live
OTHER_PROVINCES = ("01", "79", "48", "46")  # notices elsewhere that nobody here follows
CATEGORIES = (
    "health",
    "agriculture",
    "social_welfare",
    "security",
    "elections",
    "education",
    "environment",
    "culture_society",
    "disaster",
)
ROOT = Path(__file__).resolve().parent.parent
LIFECYCLE_NOTICES = 200  # of the total, taken through the real create→submit→approve→publish
BODY = (
    "Ủy ban nhân dân xã thông báo tới toàn thể nhân dân: {title}. Đề nghị các hộ gia đình chủ động theo "
    "dõi, thực hiện đúng hướng dẫn của chính quyền địa phương và liên hệ cán bộ thôn khi cần hỗ trợ."
)


# --------------------------------------------------------------------------------------------------
# Helpers


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


async def database_version(db: Database) -> str:
    if db.dialect == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    return f"PostgreSQL {await db.fetchval('SHOW server_version')}"


# --------------------------------------------------------------------------------------------------
# Seeding


@dataclass(frozen=True)
class Seeded:
    tokens: list[str]
    visible: list[int]  # feed size of each benchmark citizen
    notices: int


def _texts(title: str, english: bool) -> dict[str, dict[str, str]]:
    out = {"vi": {"title": title, "body": BODY.format(title=title), "summary": title[:120]}}
    if english:
        out["en"] = {"title": f"EN {title}", "body": f"Notice: {title}.", "summary": ""}
    return out


async def _commune_paths(rt: Runtime, province: str) -> list[tuple[str, str]]:
    rows = await rt.db.fetch(
        'SELECT "code", "path" FROM "area" WHERE "parent_code" = {} AND "level" = \'commune\' ORDER BY "code"',
        province,
    )
    return [(r["code"], r["path"]) for r in rows]


async def seed(rt: Runtime, total: int, citizens: int, rng: random.Random) -> Seeded:
    await areas.import_vietnam(rt)
    home = await _commune_paths(rt, PROVINCE)
    parents = await _commune_paths(rt, PARENTS_PROVINCE)
    others = {p: await _commune_paths(rt, p) for p in OTHER_PROVINCES}
    villages = [
        areas.AreaRecord(code=f"{code}-T{i:02d}", name=f"Thôn {i}", level="village", parent_code=code)
        for code, _ in home[:20]
        for i in range(1, 6)
    ]
    async with rt.db.transaction():
        await areas.import_records(rt, villages)
    paths = {
        r["code"]: r["path"]
        for r in await rt.db.fetch(
            'SELECT "code", "path" FROM "area" WHERE "level" IN (\'province\', \'village\')'
        )
    }
    paths.update(dict(home) | dict(parents) | {c: p for rows in others.values() for c, p in rows})
    village_codes = [v.code for v in villages]

    editor = await staff(rt, Role.PROVINCE_EDITOR, PROVINCE)
    approver = await staff(rt, Role.PROVINCE_APPROVER, PROVINCE)

    def targets_for(i: int) -> list[str]:
        roll = rng.random()
        if roll < 0.04:
            return [PROVINCE]
        if roll < 0.06:
            return [PARENTS_PROVINCE]
        if roll < 0.64:
            return [rng.choice(home)[0]]
        if roll < 0.74:
            return sorted({rng.choice(home)[0] for _ in range(rng.randint(2, 5))})
        if roll < 0.80:
            return [rng.choice(village_codes)]
        if roll < 0.88:
            return [rng.choice(parents)[0]]
        return [rng.choice(others[rng.choice(OTHER_PROVINCES)])[0]]

    # Real lifecycle for a few hundred notices, with updates, withdrawals and emergencies.
    now = rt.clock.now()
    real = min(LIFECYCLE_NOTICES, total)
    published_ids = []
    for i in range(real):
        targets = [t for t in targets_for(i) if paths[t].startswith(f"/VN/{PROVINCE}/")] or [PROVINCE]
        emergency = i % 25 == 0
        created = await notices.create(
            rt,
            editor,
            NoticeIn(
                category="disaster" if emergency else rng.choice(CATEGORIES),
                priority="emergency" if emergency else "normal",
                target_areas=targets,
                texts={k: NoticeText(**v) for k, v in _texts(f"Thông báo số {i}", i % 4 == 0).items()},
                valid_until=now + timedelta(days=rng.randint(5, 60)),
            ),
        )
        if emergency:
            await flows.emergency_publish(rt, approver, created.id, ActionIn(reason="khẩn cấp"))
        else:
            await flows.submit(rt, editor, created.id, ActionIn())
            await flows.approve(rt, approver, created.id, ActionIn())
            await flows.publish(rt, approver, created.id, ActionIn())
        published_ids.append(created.id)
    for k, notice_id in enumerate(published_ids[: real // 10]):
        if k % 2:
            await flows.withdraw(rt, approver, notice_id, ActionIn(reason="thu hồi"))
        else:
            draft = await notices.new_version(
                rt, editor, notice_id, NewVersionIn(msg_type="update", reason="cập nhật")
            )
            await flows.submit(rt, editor, draft.id, ActionIn())
            await flows.approve(rt, approver, draft.id, ActionIn())
            await flows.publish(rt, approver, draft.id, ActionIn())

    # Bulk: the rows and change-log entries the lifecycle writes, spread over the last 90 days.
    author = editor.account_id
    start = now - timedelta(days=90)
    bulk = total - await Notice.count()
    batch: list[Notice] = []
    batch_targets: list[NoticeTarget] = []
    changes: list[Change] = []

    async def flush() -> None:
        async with rt.db.transaction():
            await Notice.insert(*batch)
            await NoticeTarget.insert(*batch_targets)
            await record_changes(rt, changes, author)
        batch.clear()
        batch_targets.clear()
        changes.clear()

    for i in range(bulk):
        targets = targets_for(i)
        province = paths[targets[0]].split("/")[2]
        owner_code = province
        owner_path = f"/VN/{province}/"
        published_at = start + timedelta(seconds=(90 * 86400) * i / bulk)
        roll = rng.random()
        status, ended_at, until = "published", None, published_at + timedelta(days=rng.randint(100, 200))
        if roll < 0.05:
            status, ended_at = "withdrawn", published_at + timedelta(hours=3)
        elif roll < 0.08:
            status, until = "expired", published_at + timedelta(days=2)
            ended_at = until
        elif roll < 0.10:
            status, until = "draft", None
        emergency = rng.random() < 0.03
        notice_id = uuid.uuid4()
        batch.append(
            Notice(
                id=notice_id,
                thread_id=notice_id,
                version=1,
                msg_type="alert",
                status=status,
                category="disaster" if emergency else rng.choice(CATEGORIES),
                priority="emergency" if emergency else "normal",
                owner_area=owner_code,
                owner_path=owner_path,
                texts=_texts(f"Bản tin {i}", i % 5 == 0),
                attachments=[],
                valid_until=until,
                created_by=author,
                approved_by=None if status == "draft" else approver.account_id,
                published_by=None if status == "draft" else approver.account_id,
                submitted_at=None if status == "draft" else published_at,
                approved_at=None if status == "draft" else published_at,
                published_at=None if status == "draft" else published_at,
                ended_at=ended_at,
                end_reason="" if ended_at is None else status,
                row_version=1 if status == "draft" else 4,
                created_at=published_at,
                updated_at=ended_at or published_at,
            )
        )
        batch_targets += [NoticeTarget(notice=notice_id, area_code=c, area_path=paths[c]) for c in targets]
        steps = 1 if status == "draft" else (5 if ended_at else 4)
        change = Change(
            table="notice",
            row_id=str(notice_id),
            op="upsert",
            area_paths=(owner_path, *(paths[c] for c in targets)),
        )
        changes += [change] * steps
        if len(batch) == 250:
            await flush()
    if batch:
        await flush()

    # Citizens: home commune, a village of another commune of the province, the parents' commune.
    tokens, visible = [], []
    for i in range(citizens):
        account_id = uuid.uuid4()
        await Account.insert(
            Account(
                id=account_id,
                kind="citizen",
                device_id=f"bench-phone-{i:05d}",
                language="vi" if i % 10 else "en",
                created_at=now,
            )
        )
        actor = Actor(account_id=account_id, kind="citizen")
        followed = [
            home[i % 40][0],
            village_codes[(i * 7) % len(village_codes)],
            parents[i % len(parents)][0],
        ]
        await subscriptions.replace(rt, actor, SubscriptionsIn(areas=followed))
        tokens.append(
            issue_access_token(rt.jwt_keys, subject=str(account_id), kind="citizen", now=now, minutes=240)
        )
        if i < 10:
            view = await feed.view(rt, actor, None)
            page = await feed.page(rt, view, None, 100, 0)
            count = len(page.items)
            cursor = page.next_cursor
            while cursor:
                page = await feed.page(rt, view, cursor, 100, 0)
                count += len(page.items)
                cursor = page.next_cursor
            visible.append(count)
    return Seeded(tokens=tokens, visible=visible, notices=await Notice.count())


# --------------------------------------------------------------------------------------------------
# Servers


def hello_app() -> Any:
    from litestar import Litestar, get

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar(route_handlers=[hello])


def serve(args: argparse.Namespace) -> None:
    """The child process: one app under uvicorn (same options for both apps)."""
    import uvicorn

    if args.app == "hello":
        app = hello_app()
    else:
        from backend.app import create_app

        settings = Settings(
            data_dir=Path(args.data_dir),
            database_url=args.database_url,
            run_workers=False,
            mqtt_port=free_port(),
            log_level="WARNING",
        )
        app = create_app(settings)
    # Litestar's default logging config puts the root logger at INFO when an app is built, which
    # would log every request; both servers run at WARNING (as KENG_LOG_LEVEL=WARNING asks).
    logs.configure("WARNING")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


@contextlib.asynccontextmanager
async def server(app: str, url: str, data_dir: Path, probe: str) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "bench.bench_feed", "serve", "--app", app, "--port", str(port)]
    command += ["--database-url", url, "--data-dir", str(data_dir)]
    env = {**os.environ, "KENG_LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(base + probe)).status_code == 200:
                        break
                if proc.returncode is not None:
                    raise SystemExit(f"the {app} server exited with {proc.returncode}")
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"the {app} server did not answer on {base}{probe}")
        yield base, proc.pid
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), to report server CPU per request."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# --------------------------------------------------------------------------------------------------
# Load


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    bytes_in: int
    server_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def cpu_ms(self) -> float:
        return self.server_cpu / self.requests * 1000


Request = Callable[[int], tuple[str, dict[str, str]]]  # client index → (path, headers)


async def load(
    name: str, base: str, pid: int, request: Request, clients: int, total: int, expect: int
) -> Result:
    """``clients`` concurrent httpx clients (one connection each) share ``total`` requests."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    received = 0
    remaining = total
    pool = [
        httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1), timeout=60)
        for _ in range(clients)
    ]

    async def warm(i: int) -> None:
        path, headers = request(i)
        await pool[i].get(path, headers=headers)

    async def worker(i: int) -> None:
        nonlocal remaining, received
        http = pool[i]
        while remaining > 0:
            remaining -= 1
            path, headers = request(i)
            t0 = time.perf_counter()
            response = await http.get(path, headers=headers)
            latencies.append(time.perf_counter() - t0)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            received += int(response.headers.get("content-length", len(response.content)))

    try:
        await asyncio.gather(*(warm(i) for i in range(clients)))  # connections open, caches warm
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    if set(statuses) != {expect}:
        raise SystemExit(f"{name}: expected only {expect}, got {statuses}")
    return Result(name, len(latencies), elapsed, latencies, statuses, received, cpu)


# --------------------------------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_results(results: Sequence[Result], baseline_rps: float, baseline_cpu_ms: float) -> None:
    header = (
        "| Scenario | req/s | p50 | p99 | bytes/resp (wire) | server CPU/req | req/s vs hello-world |",
        "|---|---|---|---|---|---|---|",
    )
    print("\n".join(header))
    for r in results:
        print(
            f"| {r.name} | {r.rps:,.0f} | {fmt_ms(percentile(r.latencies, 0.5))} | "
            f"{fmt_ms(percentile(r.latencies, 0.99))} | {r.bytes_in / r.requests:,.0f} | "
            f"{r.cpu_ms():.2f} ms | {r.rps / baseline_rps:.3f}× "
            f"(CPU {r.cpu_ms() / baseline_cpu_ms:.1f}×) |"
        )


async def run(args: argparse.Namespace, url: str, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, database_url=url, run_workers=False)
    db = Database(url)
    rng = random.Random(20260302)
    t0 = time.perf_counter()
    async with db.session(ALL_TABLES):
        await require_empty(db)
        await migrations.migrate(db)
        rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
        await categories.seed_defaults(rt)
        seeded = await seed(rt, args.notices, args.clients, rng)
        version = await database_version(db)
        await db.execute_ddl("ANALYZE")
    seed_s = time.perf_counter() - t0

    cores = os.cpu_count() or 0
    print("Kẻng citizen feed benchmark")
    print(f"  CPU:       {cpu_model()} — {cores} logical cores (servers and load generator share them)")
    print(f"  Python:    {platform.python_implementation()} {platform.python_version()} ({sys.platform})")
    print(f"  Database:  {version}")
    print(
        f"  Data:      {seeded.notices:,} notices ({LIFECYCLE_NOTICES} through the real lifecycle), "
        f"seeded in {seed_s:.0f} s"
    )
    print(
        f"  Citizens:  {args.clients}, each following 3 areas; feed sizes of the first ten: "
        f"{', '.join(map(str, seeded.visible))} notices"
    )
    print(f"  Load:      {args.clients} concurrent httpx clients, {args.requests:,} requests per scenario")
    print()

    auth = [{"Authorization": f"Bearer {t}", "Accept-Encoding": "gzip"} for t in seeded.tokens]
    results: list[Result] = []
    hello: list[Result] = []
    n, c = args.requests, args.clients
    async with server("hello", url, data_dir, "/hello") as (base, pid):
        hello.append(
            await load("Litestar hello-world (before)", base, pid, lambda i: ("/hello", {}), c, n, 200)
        )
    async with server("keng", url, data_dir, "/health") as (base, pid):
        feed_path = f"/api/v1/citizen/feed?limit={args.limit}"
        results.append(
            await load("Feed, first page (200, gzip)", base, pid, lambda i: (feed_path, auth[i]), c, n, 200)
        )
        tags, cursors = [], []
        async with httpx.AsyncClient(base_url=base) as http:
            for i in range(c):
                response = await http.get(feed_path, headers=auth[i])
                tags.append({**auth[i], "If-None-Match": response.headers["etag"]})
                cursors.append(response.json()["changes_cursor"])
            second = (await http.get(feed_path, headers=auth[0])).json()["next_cursor"]
        results.append(
            await load(
                "Feed revalidation (If-None-Match → 304)",
                base,
                pid,
                lambda i: (feed_path, tags[i]),
                c,
                n,
                304,
            )
        )
        page2 = f"{feed_path}&cursor={second}"
        results.append(
            await load("Feed, second page (200, gzip)", base, pid, lambda i: (page2, auth[0]), c, n, 200)
        )
        results.append(
            await load(
                "Feed changes since cursor (nothing new)",
                base,
                pid,
                lambda i: (f"/api/v1/citizen/feed/changes?since={cursors[i]}", auth[i]),
                c,
                n,
                200,
            )
        )
    async with server("hello", url, data_dir, "/hello") as (base, pid):
        hello.append(
            await load("Litestar hello-world (after)", base, pid, lambda i: ("/hello", {}), c, n, 200)
        )
    baseline_rps = sum(h.rps for h in hello) / len(hello)
    baseline_cpu = sum(h.cpu_ms() for h in hello) / len(hello)
    print_results([*hello, *results], baseline_rps, baseline_cpu)
    print()
    print(
        f"Ratios are against the mean of the two hello-world runs ({baseline_rps:,.0f} req/s, "
        f"{baseline_cpu:.2f} ms server CPU per request)."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_feed", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("serve", help="(internal) run one server for the benchmark")
    child.add_argument("--app", choices=["keng", "hello"], required=True)
    child.add_argument("--port", type=int, required=True)
    child.add_argument("--database-url", required=True)
    child.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument(
        "--notices", type=int, default=10_000, help="notices in the database (default 10,000)"
    )
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (default 200)")
    parser.add_argument("--requests", type=int, default=4_000, help="requests per scenario (default 4,000)")
    parser.add_argument("--limit", type=int, default=20, help="feed page size (default 20)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args)
        return
    if not LIFECYCLE_NOTICES <= args.notices <= 200_000:
        parser.error(f"--notices must be between {LIFECYCLE_NOTICES} and 200,000")
    if not 1 <= args.clients <= 1_000 or not args.clients <= args.requests <= 1_000_000:
        parser.error("--clients must be 1..1,000 and --requests at least --clients (at most 1,000,000)")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="keng-bench-feed-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(args, url, Path(tmp) / "data"))


if __name__ == "__main__":
    main()
