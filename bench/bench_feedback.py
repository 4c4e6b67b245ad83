"""Feedback submission benchmark: sustained submissions per second and latency percentiles.

Three workloads, each for the same number of seconds with the same number of concurrent senders, on
the same database, in this one process:

1. **HTTP**: ``POST /api/v1/citizen/feedback`` through the whole app (JSON decoding, token check,
   rate limits, category and area checks, idempotency lookup, insert of report + history entry);
2. **service**: ``feedback.services.submit`` called directly (the same rules, no HTTP);
3. **baseline**: a plain ``INSERT`` of the same row into ``feedback`` (the database's own floor).

Every sender is its own citizen (one phone), so the per-device limit does not apply; the per-address
limit is raised for the run since every request comes from 127.0.0.1. Work is bounded by time and by
``--max-requests``::

    python -m bench.bench_feedback                                  # temporary PostgreSQL database
    python -m bench.bench_feedback --seconds 20 --concurrency 32
    python -m bench.bench_feedback --database-url sqlite:////tmp/fb.db

Without ``--database-url`` a fresh database is created on ``KENG_BENCH_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.app import Overrides, create_app
from backend.citizen.feedback import services as feedback
from backend.citizen.feedback.schemas import FeedbackIn
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.accounts.tables import Account
from backend.core.areas import services as areas
from backend.lib.tokens import issue_access_token
from backend.settings import Settings

TEXT = "Đường liên thôn bị sạt lở sau mưa lớn, xe máy đi qua rất nguy hiểm, đề nghị xã kiểm tra."


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


async def run_load(
    name: str, senders: int, seconds: float, max_requests: int, one: Callable[[int, int], Awaitable[bool]]
) -> Result:
    """``senders`` tasks call ``one(sender, n)`` back to back until the time or request budget ends."""
    latencies: list[float] = []
    errors = 0
    started = perf_counter()
    deadline = started + seconds
    issued = 0

    async def sender(i: int) -> None:
        nonlocal errors, issued
        n = 0
        while perf_counter() < deadline and issued < max_requests:
            issued += 1
            t0 = perf_counter()
            ok = await one(i, n)
            latencies.append(perf_counter() - t0)
            errors += 0 if ok else 1
            n += 1

    await asyncio.gather(*(sender(i) for i in range(senders)))
    return Result(name, len(latencies) - errors, perf_counter() - started, latencies, errors)


@contextlib.asynccontextmanager
async def running(app) -> AsyncIterator[None]:
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    try:
        yield
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def fresh_postgres(server_url: str) -> AsyncIterator[str]:
    name = f"keng_bench_feedback_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    finally:
        conn = await asyncpg.connect(server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def bench(url: str, args: argparse.Namespace, data_dir: Path) -> list[Result]:
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        run_workers=False,
        feedback_ip_rate_per_minute=10_000_000,
        feedback_device_rate_per_hour=10_000_000,
    )
    app = create_app(settings, Overrides(clock=SystemClock(), bus=InMemoryBus()))
    async with running(app):
        rt = app.state.rt
        async with rt.db.transaction():
            await areas.import_records(
                rt,
                [
                    areas.AreaRecord("VN", "Việt Nam", "nation", None),
                    areas.AreaRecord("38", "Thanh Hóa", "province", "VN"),
                    areas.AreaRecord("38001", "Xã Hoằng Hóa", "commune", "38"),
                ],
            )
        phones = []
        for i in range(args.concurrency):
            account_id = uuid.uuid4()
            await Account.insert(
                Account(id=account_id, kind="citizen", device_id=f"bench-{i}-{account_id.hex[:8]}")
            )
            phones.append(account_id)
        headers = [
            {
                "Authorization": "Bearer "
                + issue_access_token(
                    rt.jwt_keys, subject=str(a), kind="citizen", now=rt.clock.now(), minutes=60
                )
            }
            for a in phones
        ]
        actors = [await actor_for_account(rt, a, ClientInfo("127.0.0.1", "bench")) for a in phones]
        limits = feedback.SubmitLimits.from_settings(rt)

        def body(sender: int, n: int, tag: str) -> dict[str, object]:
            return {
                "client_id": f"{tag}-{sender}-{n}-{uuid.uuid4().hex[:8]}",
                "category": "land_construction",
                "text": TEXT,
                "area_code": "38001",
                "lat": 19.8,
                "long": 105.77,
                "anonymous": True,
            }

        results = []
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def over_http(sender: int, n: int) -> bool:
                r = await http.post(
                    "/api/v1/citizen/feedback", json=body(sender, n, "h"), headers=headers[sender]
                )
                return r.status_code == 201

            await run_load("warm-up", args.concurrency, 1.0, args.max_requests, over_http)
            results.append(
                await run_load("HTTP submit", args.concurrency, args.seconds, args.max_requests, over_http)
            )

        async def direct(sender: int, n: int) -> bool:
            _, created = await feedback.submit(
                rt, actors[sender], FeedbackIn(**body(sender, n, "s")), (), limits
            )
            return created

        results.append(
            await run_load("service submit", args.concurrency, args.seconds, args.max_requests, direct)
        )

        async def plain_insert(sender: int, n: int) -> bool:
            await rt.db.execute(
                'INSERT INTO "feedback" ("id", "token", "client_id", "account", "source", "category", '
                '"area_code", "area_path", "lat", "long", "text", "anonymous", "status", "created_at", '
                '"updated_at") VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})',
                uuid.uuid4(),
                uuid.uuid4().hex[:16],
                f"b-{sender}-{n}-{uuid.uuid4().hex[:8]}",
                phones[sender],
                "app",
                "land_construction",
                "38001",
                "/VN/38/38001/",
                19.8,
                105.77,
                TEXT,
                True,
                "received",
                rt.clock.now(),
                rt.clock.now(),
            )
            return True

        results.append(
            await run_load(
                "baseline: plain INSERT", args.concurrency, args.seconds, args.max_requests, plain_insert
            )
        )
        stored = await rt.db.fetchval('SELECT count(*) AS n FROM "feedback"')
        print(f"rows stored: {stored} ({rt.db.dialect})")
    return results


def report(results: list[Result], args: argparse.Namespace, url: str) -> None:
    base = results[-1]
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"database: {urlparse(url).scheme}; {args.concurrency} concurrent senders, {args.seconds:g} s each\n"
    )
    print("| workload | submissions/s | p50 ms | p99 ms | max ms | errors | rate vs baseline |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | {r.rate:,.0f} | {r.pct(0.5):.2f} | {r.pct(0.99):.2f} | {r.pct(1.0):.2f} | {r.errors} | "
            f"{r.rate / base.rate:.2f}× |"
        )


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="keng-bench-feedback-") as tmp:
        if args.database_url:
            results = await bench(args.database_url, args, Path(tmp))
            report(results, args, args.database_url)
            return
        async with fresh_postgres(args.postgres) as url:
            results = await bench(url, args, Path(tmp))
            report(results, args, url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="an empty database to use (default: a temporary PostgreSQL one)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KENG_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server on which to create the temporary database",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each workload")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent senders (one phone each)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="upper bound per workload")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("keng.access", "httpx", "piccolo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
