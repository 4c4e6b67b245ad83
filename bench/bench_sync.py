"""Offline sync benchmark: Kẻng's sync protocol against Kinto, the same workload in the same run.

Workload (issue 5):

1. **push**: one official's phone, back online, pushes 5,000 new records (~300 B each);
2. **full pull**: a fresh phone pulls them all (``--rounds`` fresh phones one after the other,
   every round listed). The first phone of a scope and the next ones are reported apart: Kẻng's
   next phones of the same scope (another official of the commune, a replaced phone) start from the
   first one's snapshot, whose pages it keeps encoded and compressed. Each server has answered one
   full pull before the rounds (Kẻng: to an official of another scope), so neither round is its
   first of the kind. For Kinto the same split;
3. **incremental pull**: after 100 of them changed, a phone pulls those 100 changes (``--rounds``
   times, 100 other rows each time; the median is reported).

Kẻng keeps a row's fields encoded from the push that wrote it (``sync_wire``), so step 2 sends
kept text; a second full pull after emptying ``sync_wire``, by an official whose grants differ (the
commune and one of its villages: the same rows, another scope, so no shared snapshot) is reported
beside it ("cold": every row loaded and encoded, as for rows written through the web API that no
phone has pulled yet).

Both servers run as their own processes on the same PostgreSQL server, each on a fresh database, and
are driven over real HTTP from this process:

- Kẻng: ``keng serve`` (uvicorn), the reference offline client (``mobile_client_py``) pushing in
  ~256 KB requests and pulling checkpoints of about 64 KB on the wire (what a phone on 2G/3G
  affords), gzip both ways; the server's own time per request is read from its access log;
- Kinto: ``kinto start`` (waitress) with the PostgreSQL storage and permission backends, records
  pushed through ``POST /v1/batch`` (``kinto.batch_max_requests`` raised to 500 so Kinto gets
  its best batch size), pulled with ``GET …/records`` (all at once) and ``?_since=<timestamp>``;
  its phone decodes the answer and writes it to the same local store as Kẻng's client does (the
  time until the answer has arrived is reported too).

Also reported: bytes on the wire per pulled record and per mutation, round trips per sync, and the
first-login snapshot of a commune with 500 notices and 2,000 feedback items for 20 phones.

Kinto is not a dependency of Kẻng; install it into a separate virtualenv::

    python3 -m venv /tmp/kinto-venv
    /tmp/kinto-venv/bin/pip install 'kinto[postgresql]' psycopg2-binary

then::

    python -m bench.bench_sync --kinto /tmp/kinto-venv/bin/kinto
    python -m bench.bench_sync --kinto '' --records 1000        # Kẻng only, smaller

PostgreSQL: ``KENG_BENCH_POSTGRES`` (default ``postgres://postgres@127.0.0.1:5432/postgres``); the
databases are created and dropped by the run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from time import perf_counter
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import msgspec

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account, RoleGrant
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.lib import migrations
from backend.lib.db import Database
from backend.lib.tokens import issue_access_token
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from mobile_client_py.offline import OfflineOfficial, SyncReport
from mobile_client_py.store import Store

ROOT = Path(__file__).resolve().parent.parent
encode = msgspec.json.Encoder().encode
BODY = (
    "Trạm y tế xã tổ chức tiêm chủng mở rộng cho trẻ dưới 5 tuổi vào sáng thứ Bảy. "
    "Phụ huynh mang theo sổ tiêm chủng và thẻ bảo hiểm y tế của cháu."
)
ACCESS = re.compile(r"(GET|POST) (/api/v1/sync\S*) (\d{3}) ([0-9.]+)ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def record(i: int, commune: str = "38001") -> dict[str, object]:
    """~300 bytes of JSON: a notice draft as a phone writes it."""
    return {
        "title": f"Thông báo tiêm chủng số {i}",
        "body": BODY,
        "category": "health",
        "priority": "normal",
        "targets": [commune],
    }


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    finally:
        conn = await asyncpg.connect(server_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"server exited: see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code < 500:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"server did not start: see {log}")


class ServerTimes:
    """The server's own time per sync request, from its access log."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.log.stat().st_size

    def since_mark(self) -> list[float]:
        with self.log.open("rb") as f:
            f.seek(self.offset)
            text = f.read().decode("utf-8", "replace")
        return [float(m.group(4)) for m in ACCESS.finditer(text)]


@dataclass
class Numbers:
    system: str
    push_s: float = 0.0
    push_bytes: int = 0
    push_requests: int = 0
    pull_first_s: float = 0.0  # the first phone of the scope
    pull_s: float = 0.0  # the next phones (median)
    pull_bytes: int = 0
    pull_requests: int = 0
    inc_s: float = 0.0
    inc_server_ms: float = 0.0
    inc_bytes: int = 0
    inc_requests: int = 0
    extra: dict[str, object] = field(default_factory=dict)


# --- Kẻng ---------------------------------------------------------------------------------------


async def keng_setup(url: str, data_dir: Path, communes: dict[str, int]) -> dict[str, list[str]]:
    """Schema, areas, officials with their tokens (minted with the server's own keys)."""
    settings = Settings(data_dir=data_dir, database_url=url, run_workers=False)
    db = Database(url)
    async with db.session(ALL_TABLES):
        await migrations.migrate(db)
        rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
        await categories.seed_defaults(rt)
        async with rt.db.transaction():
            await areas.import_records(
                rt,
                [
                    areas.AreaRecord("VN", "Việt Nam", "nation", None),
                    areas.AreaRecord("38", "Thanh Hóa", "province", "VN"),
                    areas.AreaRecord("38001", "Xã Hoằng Hóa", "commune", "38"),
                    areas.AreaRecord("38001-01", "Thôn Đông", "village", "38001"),
                    areas.AreaRecord("38002", "Phường Hạc Thành", "commune", "38"),
                    areas.AreaRecord("38002-01", "Tổ dân phố 1", "village", "38002"),
                ],
            )
        tokens: dict[str, list[str]] = {}
        for commune, phones in communes.items():
            for i in range(phones):
                account_id = uuid.uuid4()
                await Account.insert(
                    Account(
                        id=account_id, kind="staff", username=f"canbo{commune}_{i}", created_at=rt.clock.now()
                    )
                )
                for area in commune.split("+"):  # "38001+38001-01": one account, both grants
                    await RoleGrant.insert(
                        RoleGrant(
                            id=uuid.uuid4(), account=account_id, role=Role.COMMUNE_OFFICIAL.value, area=area
                        )
                    )
                tokens.setdefault(commune, []).append(
                    issue_access_token(
                        rt.jwt_keys, subject=str(account_id), kind="staff", now=rt.clock.now(), minutes=240
                    )
                )
        return tokens


def keng_phone(base: str, path: Path, token: str) -> OfflineOfficial:
    http = httpx.AsyncClient(base_url=base, timeout=900)
    official = OfflineOfficial(Store(path), http, timeout=900)
    official.use_token(token)
    return official


async def keng_bench(pg: str, args: argparse.Namespace, work: Path) -> list[Numbers]:
    n = Numbers("Kẻng")
    async with fresh_database(pg, "keng_bench_sync") as url:
        data_dir = work / "keng-data"
        tokens = await keng_setup(
            url, data_dir, {"38001": 2, "38002": 21, "38001+38001-01": 1, "38001+38002": 1}
        )
        port = free_port()
        log = work / "keng.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KENG_")}
        env.update(
            PYTHONPATH=str(ROOT),
            KENG_DATABASE_URL=url,
            KENG_DATA_DIR=str(data_dir),
            KENG_PORT=str(port),
            KENG_MQTT_PORT="0",
            KENG_LOG_LEVEL="INFO",
        )
        argv = [sys.executable, "-m", "backend.cli", "serve", "--no-workers"]
        with process(argv, env, log, work) as proc:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(f"{base}/health", proc, log)
            times = ServerTimes(log)

            # 1. push
            author = keng_phone(base, work / "author.db", tokens["38001"][0])
            await author.sync()  # first login: empty scope
            ids = [author.create("notice", record(i)) for i in range(args.records)]
            times.mark()
            started = perf_counter()
            report = await author.sync()
            n.push_s = perf_counter() - started
            assert report.applied == args.records and report.rejected == 0, report
            n.push_bytes, n.push_requests = report.bytes_up, report.requests
            n.extra["push_server_ms"] = sum(times.since_mark())

            # 2. full pull by a fresh phone, ``--rounds`` times (another fresh phone each time): the
            # first phone of the scope and the median of the next ones. The server has served one
            # full pull before, to an official of another scope (commune and a neighbour's grants:
            # the same rows), so the first phone of the scope is not also its first of the kind.
            warm = keng_phone(base, work / "warm.db", tokens["38001+38002"][0])
            await warm.sync()
            assert len(warm.rows("notice")) == args.records
            pulls, pull_server, readers = [], [], []
            for k in range(args.rounds):
                fresh = keng_phone(base, work / f"reader{k}.db", tokens["38001"][1])
                times.mark()
                started = perf_counter()
                report = await fresh.sync()
                pulls.append(perf_counter() - started)
                pull_server.append(sum(times.since_mark()))
                assert len(fresh.rows("notice")) == args.records
                readers.append(fresh)
            reader = readers[0]  # pulls the changes below
            n.pull_first_s, n.pull_s = pulls[0], median(pulls[1:])
            n.pull_bytes, n.pull_requests = report.bytes_down, report.requests
            n.extra["pull_records_s_rounds"] = [round(args.records / x) for x in pulls]
            n.extra["pull_server_ms_rounds"] = [round(x, 1) for x in pull_server]

            # 2b. the same full pull with no row kept encoded (rows written by the web API and not
            # yet sent to any phone): every row is loaded and encoded, and kept afterwards.
            conn = await asyncpg.connect(url)
            try:
                await conn.execute('DELETE FROM "sync_wire"')
            finally:
                await conn.close()
            cold = keng_phone(base, work / "cold.db", tokens["38001+38001-01"][0])
            times.mark()
            started = perf_counter()
            await cold.sync()
            assert len(cold.rows("notice")) == args.records
            n.extra["pull_cold_records_s"] = round(args.records / (perf_counter() - started))
            n.extra["pull_cold_server_ms"] = sum(times.since_mark())

            # 3. 100 changes, pulled; each round changes another 100 rows, the median is reported.
            client_s, server_ms = [], []
            for k in range(args.rounds):
                for row_id in ids[k * 100 : (k + 1) * 100]:
                    author.update("notice", row_id, {"title": f"Đổi lịch tiêm chủng ({k})"})
                await author.sync()
                times.mark()
                started = perf_counter()
                report = await reader.sync()
                client_s.append(perf_counter() - started)
                assert report.changes == 100, report
                server_ms.append(sum(times.since_mark()))
            n.inc_bytes, n.inc_requests = report.bytes_down, report.requests  # the same every round
            n.inc_s, n.inc_server_ms = median(client_s), median(server_ms)
            n.extra["inc_server_ms_rounds"] = [round(x, 1) for x in server_ms]

            # Frugality: a sync with nothing to do.
            times.mark()
            idle = await reader.sync()
            n.extra["idle"] = (idle.requests, idle.bytes_up + idle.bytes_down, sum(times.since_mark()))

            numbers = [n]
            if args.kinto:
                # Kinto's run while Kẻng's server idles, so both see the same machine.
                numbers.append(await kinto_bench(pg, args.kinto, args, work))
            show(numbers, args)
            if args.snapshot:
                n.extra["snapshot"] = await keng_snapshot(base, work, tokens["38002"])
                print(f"first login: {json.dumps(n.extra['snapshot'])}")
    return numbers


async def keng_snapshot(base: str, work: Path, tokens: list[str]) -> dict[str, float]:
    """Another commune, with 500 notices and 2,000 feedback items; 20 phones log in for the first time."""
    writer = keng_phone(base, work / "writer.db", tokens[0])
    await writer.sync()
    for i in range(500):
        writer.create("notice", record(i, "38002"))
    for i in range(2000):
        writer.create(
            "feedback",
            {
                "category": "land_construction",
                "area": "38002-01",
                "text": f"Đường liên thôn đoạn qua nhà văn hoá bị sạt lở sau mưa lớn, đề nghị xã xử lý ({i}).",
                "address": "Tổ dân phố 1",
            },
        )
    report = await writer.sync()
    assert report.rejected == 0, report
    sizes, requests, seconds = [], [], []
    for k in range(20):
        fresh = keng_phone(base, work / f"first{k}.db", tokens[1 + k])
        started = perf_counter()
        got: SyncReport = await fresh.sync()
        seconds.append(perf_counter() - started)
        sizes.append(got.bytes_down)
        requests.append(got.requests)
        rows = len(fresh.rows("notice")) + len(fresh.rows("feedback"))
    return {
        "rows": rows,
        "bytes_per_phone": sum(sizes) / len(sizes),
        "requests_per_phone": sum(requests) / len(requests),
        "seconds_per_phone": sum(seconds) / len(seconds),
        "bytes_all_phones": sum(sizes),
    }


# --- Kinto --------------------------------------------------------------------------------------

KINTO_INI = """[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.postgresql
kinto.storage_url = {url}
kinto.permission_backend = kinto.core.permission.postgresql
kinto.permission_url = {url}
kinto.cache_backend = kinto.core.cache.memory
kinto.bucket_create_principals = system.Authenticated
kinto.userid_hmac_secret = {secret}
kinto.batch_max_requests = 500
multiauth.policies = basicauth

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(message)s
"""


def kinto_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(scheme="postgresql"))


async def kinto_bench(pg: str, kinto: str, args: argparse.Namespace, work: Path) -> Numbers:
    n = Numbers("Kinto")
    async with fresh_database(pg, "kinto_bench_sync") as url:
        port = free_port()
        ini = work / "kinto.ini"
        ini.write_text(KINTO_INI.format(url=kinto_url(url), secret=uuid.uuid4().hex, port=port))
        env = dict(os.environ)
        done = await asyncio.to_thread(
            subprocess.run, [kinto, "migrate", "--ini", str(ini)], env=env, capture_output=True, cwd=work
        )
        if done.returncode != 0:
            raise SystemExit(f"kinto migrate failed:\n{done.stderr.decode()[-2000:]}")
        log = work / "kinto.log"
        with process([kinto, "start", "--ini", str(ini)], env, log, work) as proc:
            base = f"http://127.0.0.1:{port}/v1"
            await wait_ready(f"{base}/", proc, log)
            auth = "Basic " + base64.b64encode(b"canbo:matkhau").decode()
            headers = {"Authorization": auth, "Accept-Encoding": "gzip"}
            records = f"{base}/buckets/keng/collections/notices/records"
            async with httpx.AsyncClient(timeout=300, headers=headers) as http:
                assert (await http.put(f"{base}/buckets/keng")).status_code in (200, 201)
                assert (await http.put(f"{base}/buckets/keng/collections/notices")).status_code in (200, 201)
                sent = 0

                async def batch(requests: list[dict[str, object]], defaults: dict[str, object]) -> None:
                    nonlocal sent
                    body = json.dumps({"defaults": defaults, "requests": requests}).encode()
                    sent += len(body)
                    answer = await http.post(
                        f"{base}/batch", content=body, headers={"Content-Type": "application/json"}
                    )
                    assert answer.status_code == 200, answer.text[:300]
                    statuses = {r["status"] for r in answer.json()["responses"]}
                    assert statuses <= {200, 201}, statuses

                ids = [str(uuid.uuid4()) for _ in range(args.records)]
                started = perf_counter()
                for start in range(0, args.records, args.kinto_batch):
                    chunk = ids[start : start + args.kinto_batch]
                    await batch(
                        [
                            {
                                "path": f"/buckets/keng/collections/notices/records/{i}",
                                "body": {"data": record(k)},
                            }
                            for k, i in enumerate(chunk, start)
                        ],
                        {"method": "PUT"},
                    )
                n.push_s = perf_counter() - started
                n.push_bytes, n.push_requests = sent, -(-args.records // args.kinto_batch)

                # A phone keeps what it pulls: the answer is decoded and written to the same
                # local store, in one transaction, as Kẻng's reference client does with its pages
                # (what kinto.js does with IndexedDB).
                # Kinto too has answered one full pull before (not timed, not stored).
                assert (await http.get(records)).status_code == 200
                pulls, received = [], []
                for k in range(args.rounds):
                    phone = Store(work / f"kinto-reader{k}.db")
                    started = perf_counter()
                    answer = await http.get(records)
                    received.append(perf_counter() - started)
                    with phone.transaction(durable=False):  # as the reference client commits a checkpoint
                        phone.put_rows(
                            ("notice", item["id"], int(item["last_modified"]), encode(item).decode())
                            for item in msgspec.json.decode(answer.content)["data"]
                        )
                    pulls.append(perf_counter() - started)
                    assert len(phone.base_rows("notice")) == args.records
                    phone.close()
                n.pull_first_s, n.pull_s = pulls[0], median(pulls[1:])
                n.extra["pull_received_s"] = round(median(received), 4)
                n.extra["pull_records_s_rounds"] = [round(args.records / x) for x in pulls]
                n.pull_bytes, n.pull_requests = len(answer.content), 1
                if "content-encoding" in answer.headers:
                    n.pull_bytes = int(answer.headers.get("content-length") or n.pull_bytes)
                since = answer.headers["ETag"].strip('"')

                client_s = []
                for k in range(args.rounds):
                    await batch(
                        [
                            {
                                "path": f"/buckets/keng/collections/notices/records/{i}",
                                "body": {"data": {"title": f"Đổi lịch tiêm chủng ({k})"}},
                            }
                            for i in ids[k * 100 : (k + 1) * 100]
                        ],
                        {"method": "PATCH"},
                    )
                    started = perf_counter()
                    answer = await http.get(records, params={"_since": since})
                    client_s.append(perf_counter() - started)
                    assert len(answer.json()["data"]) == 100
                    since = answer.headers["ETag"].strip('"')
                n.inc_bytes, n.inc_requests = len(answer.content), 1
                n.inc_s = median(client_s)
                n.inc_server_ms = n.inc_s * 1000  # waitress logs no timing: the client's view
    return n


# --- report -------------------------------------------------------------------------------------


def show(numbers: list[Numbers], args: argparse.Namespace) -> None:
    r = args.records
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"workload: {r} records of ~{len(json.dumps(record(0), ensure_ascii=False).encode())} B, pushed by one phone\n"
    )
    head = f"{'':<40}" + "".join(f"{x.system:>16}" for x in numbers)
    print(head)

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<40}" + "".join(f"{v:>16}" for v in values))

    row("push, records/s", [f"{r / x.push_s:,.0f}" for x in numbers])
    row("push, round trips", [str(x.push_requests) for x in numbers])
    row("push, bytes up per mutation", [f"{x.push_bytes / r:,.0f}" for x in numbers])
    row("full pull, first phone, records/s", [f"{r / x.pull_first_s:,.0f}" for x in numbers])
    row(f"full pull, next phones (median/{args.rounds - 1})", [f"{r / x.pull_s:,.0f}" for x in numbers])
    row("full pull, round trips", [str(x.pull_requests) for x in numbers])
    row("full pull, bytes per record", [f"{x.pull_bytes / r:,.0f}" for x in numbers])
    row(f"100 changes, client ms (median/{args.rounds})", [f"{x.inc_s * 1000:,.1f}" for x in numbers])
    row(f"100 changes, server ms (median/{args.rounds})", [f"{x.inc_server_ms:,.1f}" for x in numbers])
    row("100 changes, bytes per record", [f"{x.inc_bytes / 100:,.0f}" for x in numbers])
    if len(numbers) == 2:
        k, o = numbers
        # Every Kinto round does the same work; its first is often its slowest (and so is a later
        # one now and then), so the first phone is also set against Kinto's median round.
        kinto_median = median(o.extra["pull_records_s_rounds"])  # records/s of every round
        print(
            f"\nratios Kẻng/Kinto: push {o.push_s / k.push_s:.1f}x (target ≥ 20x), "
            f"full pull: first phone {o.pull_first_s / k.pull_first_s:.2f}x "
            f"({r / k.pull_first_s / kinto_median:.2f}x against Kinto's median round), next phones "
            f"{o.pull_s / k.pull_s:.2f}x (target ≥ 2x); "
            f"incremental server time {k.inc_server_ms:.1f} ms (target ≤ 10 ms)"
        )
    for x in numbers:
        if x.extra:
            print(f"{x.system}: {json.dumps(x.extra, ensure_ascii=False, default=str)}")


async def main_async(args: argparse.Namespace) -> None:
    pg = os.environ.get("KENG_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        await keng_bench(pg, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="full pulls by fresh phones and incremental pulls of 100 changes (medians); rounds × 100 ≤ records",
    )
    parser.add_argument("--kinto", default=shutil.which("kinto") or "/tmp/kinto-venv/bin/kinto")
    parser.add_argument("--kinto-batch", type=int, default=500, help="requests per Kinto batch")
    parser.add_argument("--no-snapshot", dest="snapshot", action="store_false")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds: at least 2 (the first phone of a scope and the next ones)")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
