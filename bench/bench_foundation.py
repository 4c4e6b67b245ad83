"""Foundation benchmark: area import, authorisation checks, the notice lifecycle and the outbox.

Runs on demand against a fresh database and prints one table. The import, authorisation and
lifecycle measurements each carry a baseline taken in the same process on the same database, so
their ratios stay meaningful on a noisy machine (the outbox drain is reported as a bare rate)::

    python -m bench.bench_foundation                       # a temporary SQLite file
    python -m bench.bench_foundation --database-url postgres://postgres@127.0.0.1:5432/keng_bench

A ``--database-url`` must name an empty database (create it before, drop it after); the benchmark
refuses to run on one that already holds tables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import platform
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import Any

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor, Permission, Role
from backend.core.accounts.tables import RoleGrant
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import ActionIn, NoticeIn, NoticeText
from backend.core.outbox import services as outbox
from backend.lib import migrations
from backend.lib.db import Database
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from bench.common import require_empty, staff

AUTH_CHECKS = (
    2_000  # Actor.require calls per round: a few ms, short enough for some rounds to run uncontended
)
AUTH_ROUNDS = 250  # rounds of each kind, interleaved; the fastest round of each is reported (as timeit does)
MAX_NOTICES = 100_000

AREA_COLUMNS = (
    "code",
    "name",
    "name_folded",
    "level",
    "division_type",
    "parent_code",
    "path",
    "depth",
    "updated_at",
)


# --------------------------------------------------------------------------------------------------
# Reporting


@dataclass(frozen=True)
class Line:
    measure: str
    result: str
    baseline: str = ""
    ratio: str = ""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def print_table(lines: list[Line]) -> None:
    header = Line("Measure", "Result", "Baseline (same process)", "Ratio")
    widths = [
        max(len(getattr(x, f)) for x in [header, *lines]) for f in ("measure", "result", "baseline", "ratio")
    ]

    def row(x: Line) -> str:
        cells = (x.measure, x.result, x.baseline, x.ratio)
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(row(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for x in lines:
        print(row(x))


def cpu_model() -> str:
    try:
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                return text_line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def database_version(db: Database) -> str:
    if db.dialect == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    version = str(await db.fetchval("SHOW server_version"))
    return f"PostgreSQL {version}"


# --------------------------------------------------------------------------------------------------
# Setup


async def communes_by_province(rt: Runtime) -> dict[str, list[tuple[str, str]]]:
    rows = await rt.db.fetch(
        'SELECT "code", "parent_code", "path" FROM "area" WHERE "level" = \'commune\' ORDER BY "code"'
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        out.setdefault(r["parent_code"], []).append((r["code"], r["path"]))
    return out


def spread(items: Sequence[str], count: int) -> list[str]:
    """``count`` items evenly spaced through a sorted sequence (provinces from all over the country)."""
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


# --------------------------------------------------------------------------------------------------
# 1. Area import


async def bench_area_import(rt: Runtime) -> tuple[list[Line], dict[str, float]]:
    # The first call imports the vietnam_provinces package (a one-off per process); import_vietnam
    # then builds the records again, warm, as part of its timed run.
    areas.vietnam_records()
    t0 = perf_counter()
    records = areas.vietnam_records()
    t_records = perf_counter() - t0

    t0 = perf_counter()
    result = await areas.import_vietnam(rt)
    t_import = perf_counter() - t0
    assert result.created == len(records), result

    # Baseline: the very rows the import stored, into a scratch table shaped and indexed like
    # "area", with one executemany in one transaction through the same engine.
    columns = ", ".join(f'"{c}"' for c in AREA_COLUMNS)
    rows = await rt.db.fetch(f'SELECT {columns} FROM "area"')
    values = [tuple(r[c] for c in AREA_COLUMNS) for r in rows]
    ddl = [
        statement.replace('"area"', '"bench_area_scratch"').replace("INDEX area_", "INDEX bench_area_")
        for migration in migrations.discover()
        for statement in migration.ddl(rt.db.dialect)
        if statement.startswith(('CREATE TABLE "area" ', "CREATE INDEX area_"))
    ]
    assert sum(statement.startswith("CREATE TABLE") for statement in ddl) == 1, ddl  # plus its indexes
    for statement in ddl:
        await rt.db.execute_ddl(statement)
    if rt.db.dialect == "postgres":
        marks = ", ".join(f"${i + 1}" for i in range(len(AREA_COLUMNS)))
    else:
        marks = ", ".join("?" for _ in AREA_COLUMNS)
    sql = f'INSERT INTO "bench_area_scratch" ({columns}) VALUES ({marks})'
    t0 = perf_counter()
    async with rt.db.transaction() as tx:
        await tx.connection.executemany(sql, values)
    t_plain = perf_counter() - t0
    stored = await rt.db.fetchval('SELECT count(*) AS n FROM "bench_area_scratch"')
    assert int(stored) == len(values), stored
    await rt.db.execute_ddl('DROP TABLE "bench_area_scratch"')

    lines = [
        Line(
            f"1. Area import: import_vietnam, {len(records):,} areas",
            f"{t_import:.3f} s",
            f"{t_plain:.3f} s plain executemany",
            f"{t_import / t_plain:.1f}× slower",
        ),
        Line("   of which building the records (vietnam_records(), warm)", f"{t_records:.3f} s"),
    ]
    return lines, {"import_s": t_import, "plain_s": t_plain, "records_s": t_records}


# --------------------------------------------------------------------------------------------------
# 2. Authorisation checks


async def bench_auth(
    rt: Runtime, provinces: list[str], communes: dict[str, list[tuple[str, str]]]
) -> tuple[list[Line], dict[str, float]]:
    home, other = provinces[0], provinces[1]
    approver = await staff(rt, Role.PROVINCE_APPROVER, home)
    # A second grant elsewhere, so grants_with and grant_for have more than one grant to look at.
    await RoleGrant.insert(
        RoleGrant(
            id=uuid.uuid4(),
            account=approver.account_id,
            role=Role.COMMUNE_LEADER.value,
            area=communes[other][0][0],
        )
    )
    loaded = await accounts.actor_for_account(
        rt, approver.account_id, accounts.ClientInfo("127.0.0.1", "bench")
    )
    assert len(loaded.grants) == 2
    # The databases return the grants in different orders (SQLite happens to put the commune grant
    # first, PostgreSQL the province grant); fix the order, the non-matching grant first, so the
    # figure is the slower of the two and the same work on either database.
    actor = replace(loaded, grants=tuple(sorted(loaded.grants, key=lambda g: g.area_code == home)))
    prefix = next(g.area_path for g in actor.grants if g.area_code == home)
    home_paths = [path for _, path in communes[home]]
    # Cases with 1, 2, 3, 4, 5 target paths, cycling through the province's communes.
    cases = [
        [home_paths[(i * 7 + j) % len(home_paths)] for j in range(1 + i % 5)] for i in range(AUTH_CHECKS)
    ]
    firsts = [paths[0] for paths in cases]
    flat = [p for paths in cases for p in paths]
    permission = Permission.NOTICE_APPROVE
    require = actor.require

    timings: dict[str, list[float]] = {"require": [], "startswith": [], "per_path": []}
    for _ in range(AUTH_ROUNDS):
        t0 = perf_counter()
        for paths in cases:
            require(permission, paths)
        timings["require"].append(perf_counter() - t0)

        t0 = perf_counter()
        for path in firsts:
            path.startswith(prefix)
        timings["startswith"].append(perf_counter() - t0)

        t0 = perf_counter()
        for path in flat:
            path.startswith(prefix)
        timings["per_path"].append(perf_counter() - t0)

    # In-process CPU work: other processes can only add time, so the fastest round is the estimate.
    t_require = min(timings["require"])
    t_starts = min(timings["startswith"])
    t_per_path = min(timings["per_path"])
    checks_s = rate(len(cases), t_require)
    lines = [
        Line(
            "2. Authorisation: Actor.require over 1–5 paths (mean 3)",
            f"{checks_s:,.0f} checks/s ({t_require / len(cases) * 1e6:.2f} µs each)",
            f"{rate(len(firsts), t_starts):,.0f} str.startswith/s (same count)",
            f"{t_require / t_starts:.1f}× slower",
        ),
        Line(
            f"   vs one startswith per target path ({len(flat) / len(cases):.0f} per check)",
            "",
            f"{rate(len(flat), t_per_path):,.0f} str.startswith/s",
            f"{t_require / t_per_path:.1f}× slower",
        ),
    ]
    return lines, {
        "checks_per_s": checks_s,
        "ratio": t_require / t_starts,
        "ratio_per_path": t_require / t_per_path,
    }


# --------------------------------------------------------------------------------------------------
# 3. Notice lifecycle


@dataclass(frozen=True)
class Team:
    author: Actor
    approver: Actor
    targets: list[list[str]]  # target code lists this team's notices cycle through


async def build_teams(
    rt: Runtime, provinces: list[str], communes: dict[str, list[tuple[str, str]]]
) -> tuple[list[Team], list[Team]]:
    """Commune teams (official + leader, one target: their commune) and province teams (editor +
    approver, 1–5 communes of the province as targets)."""
    commune_teams: list[Team] = []
    province_teams: list[Team] = []
    for province in provinces:
        codes = [code for code, _ in communes[province]]
        for commune in codes[:2]:
            commune_teams.append(
                Team(
                    author=await staff(rt, Role.COMMUNE_OFFICIAL, commune),
                    approver=await staff(rt, Role.COMMUNE_LEADER, commune),
                    targets=[[commune]],
                )
            )
        province_teams.append(
            Team(
                author=await staff(rt, Role.PROVINCE_EDITOR, province),
                approver=await staff(rt, Role.PROVINCE_APPROVER, province),
                targets=[[codes[(k * 11 + j) % len(codes)] for j in range(k)] for k in range(1, 6)],
            )
        )
    return commune_teams, province_teams


async def lifecycle(rt: Runtime, team: Team, targets: list[str], priority: str, index: int) -> None:
    data = NoticeIn(
        category="health",
        priority=priority,  # type: ignore[arg-type]
        target_areas=targets,
        texts={
            "vi": NoticeText(
                title=f"Thông báo số {index}",
                body="Tiêm chủng cho trẻ em sáng thứ Bảy tại trạm y tế xã. Đề nghị các gia đình đưa trẻ đến đúng giờ.",
            )
        },
    )
    created = await notices.create(rt, team.author, data)
    await flows.submit(rt, team.author, created.id, ActionIn(row_version=created.row_version))
    approved = await flows.approve(rt, team.approver, created.id, ActionIn())
    published = await flows.publish(rt, team.approver, created.id, ActionIn(row_version=approved.row_version))
    assert published.status == "published", published.status


async def bench_lifecycle(
    rt: Runtime, n: int, provinces: list[str], communes: dict[str, list[tuple[str, str]]]
) -> tuple[list[Line], dict[str, float]]:
    commune_teams, province_teams = await build_teams(rt, provinces, communes)
    await rt.db.execute_ddl(
        'CREATE TABLE "bench_insert_scratch" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, '
        '"n" INTEGER NOT NULL, "label" VARCHAR(200) NOT NULL)'
    )

    async def plain_insert(i: int) -> None:
        async with rt.db.transaction():
            await rt.db.execute(
                'INSERT INTO "bench_insert_scratch" ("id", "n", "label") VALUES ({}, {}, {})',
                str(uuid.uuid4()),
                i,
                f"Thông báo số {i}",
            )

    # notices/s is n over the summed lifecycle times (the interleaved inserts are timed apart).
    lifecycle_s: list[float] = []
    insert_s: list[float] = []
    emergency = 0
    # Interleaved one for one, so both see the same machine at the same moment.
    for i in range(n):
        if i % 2 == 0:
            team = commune_teams[(i // 2) % len(commune_teams)]
            targets = team.targets[0]
        else:
            team = province_teams[(i // 2) % len(province_teams)]
            targets = team.targets[(i // 2) % len(team.targets)]
        priority = "emergency" if i % 10 == 9 else "normal"
        emergency += priority == "emergency"
        t0 = perf_counter()
        await lifecycle(rt, team, targets, priority, i)
        lifecycle_s.append(perf_counter() - t0)

        t0 = perf_counter()
        await plain_insert(i)
        insert_s.append(perf_counter() - t0)

    stored = await rt.db.fetchval('SELECT count(*) AS n FROM "bench_insert_scratch"')
    assert int(stored) == n, stored
    await rt.db.execute_ddl('DROP TABLE "bench_insert_scratch"')

    total, total_insert = sum(lifecycle_s), sum(insert_s)
    lines = [
        Line(
            f"3. Notice lifecycle ×{n} (create→submit→approve→publish)",
            f"{rate(n, total):,.1f} notices/s",
            f"{rate(n, total_insert):,.1f} single-row insert txns/s",
            f"{total / total_insert:.1f}× slower",
        ),
        Line(
            "   per lifecycle p50 / p99",
            f"{ms(percentile(lifecycle_s, 0.5))} / {ms(percentile(lifecycle_s, 0.99))}",
            f"{ms(percentile(insert_s, 0.5))} / {ms(percentile(insert_s, 0.99))} per insert txn",
        ),
    ]
    return lines, {
        "notices_per_s": rate(n, total),
        "inserts_per_s": rate(n, total_insert),
        "ratio": total / total_insert,
        "p50_ms": percentile(lifecycle_s, 0.5) * 1000,
        "p99_ms": percentile(lifecycle_s, 0.99) * 1000,
        "emergency": emergency,
    }


# --------------------------------------------------------------------------------------------------
# 4. Outbox drain


async def bench_outbox(rt: Runtime) -> tuple[list[Line], dict[str, float]]:
    async def noop(rt: Runtime, message: outbox.ClaimedMessage) -> None:
        return None

    handlers: dict[str, Callable[[Runtime, outbox.ClaimedMessage], Awaitable[None]]] = {
        channel: noop for channel in outbox.CHANNELS
    }
    rt.channel_handlers = handlers
    pending = await outbox.pending_count(rt)
    worker = outbox.OutboxWorker(rt, worker_id="bench-worker")
    rounds = math.ceil(pending / worker.batch) + 1  # bounded: one extra round sees the empty queue
    t0 = perf_counter()
    drained = await worker.drain(max_rounds=rounds)
    elapsed = perf_counter() - t0
    left = await outbox.pending_count(rt)
    assert drained == pending and left == 0, (drained, pending, left)
    lines = [
        Line(
            f"4. Outbox drain: {drained:,} rows, no-op handlers, batch {worker.batch}",
            f"{rate(drained, elapsed):,.0f} rows/s ({elapsed:.3f} s)",
        )
    ]
    return lines, {"rows": drained, "rows_per_s": rate(drained, elapsed), "seconds": elapsed}


# --------------------------------------------------------------------------------------------------


async def run(url: str, n: int, data_dir: Path) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir, database_url=url, run_workers=False)
    db = Database(url)
    async with db.session(ALL_TABLES):
        await require_empty(db)
        await migrations.migrate(db)
        rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
        await categories.seed_defaults(rt)

        cores = os.cpu_count() or 0
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
        print("Kẻng foundation benchmark")
        print(f"  CPU:      {cpu_model()}")
        print(f"  Cores:    {cores} logical ({usable} usable by this process)")
        print(f"  Python:   {platform.python_implementation()} {platform.python_version()} ({sys.platform})")
        print(f"  Database: {await database_version(db)}")
        if hasattr(os, "getloadavg"):
            print(f"  Load:     {' / '.join(f'{x:.2f}' for x in os.getloadavg())} (1 / 5 / 15 min, at start)")
        print(f"  Notices:  {n}")
        print()

        lines: list[Line] = []
        results: dict[str, Any] = {}
        part, results["area"] = await bench_area_import(rt)
        lines += part

        communes = await communes_by_province(rt)
        provinces = spread(sorted(communes), 4)
        part, results["auth"] = await bench_auth(rt, provinces, communes)
        lines += part
        part, results["lifecycle"] = await bench_lifecycle(rt, n, provinces, communes)
        lines += part
        part, results["outbox"] = await bench_outbox(rt)
        lines += part
        print_table(lines)
        emergency = results["lifecycle"]["emergency"]
        print()
        print(
            f"Lifecycle mix: half commune staff (1 target), half province staff (1–5 targets) in "
            f"provinces {', '.join(provinces)}; {emergency} of {n} emergency (5 outbox rows, else 4)."
        )
        return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_foundation", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--database-url",
        help="an empty database to use, e.g. postgres://postgres@127.0.0.1:5432/keng_bench "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--notices", type=int, default=200, help="notices to take through the lifecycle (default 200)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.notices <= MAX_NOTICES:
        parser.error(f"--notices must be between 1 and {MAX_NOTICES}")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="keng-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.notices, Path(tmp) / "data"))


if __name__ == "__main__":
    main()
