"""SMS benchmark: one emergency notice fanned out to N opted-in phones through the real HTTP
gateway adapter to a gateway on loopback.

Workload: N citizens following one commune, each opted in to SMS; one published emergency notice;
the ``sms`` channel plans N delivery rows and sends N messages (UCS-2, the notice cut to at most
three segments) with ``KENG_SMS_CONCURRENCY`` requests in flight, recording each outcome. The
gateway is a threaded HTTP server in this process answering 200 with a JSON id. Baseline: the same
N POSTs of the same rendered bodies to the same gateway through one httpx client with the same
concurrency, with no database at all — so the ratio is what planning, claiming and recording a
delivery row per message costs on top of the HTTP itself::

    python -m bench.bench_sms                    # a temporary SQLite file, 1,000 phones
    python -m bench.bench_sms --phones 2000 --database-url postgres://postgres@127.0.0.1:5432/keng_bench

A ``--database-url`` must name an empty database (create it before, drop it after).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import perf_counter
from typing import Any

import httpx

from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.adapters.sms import DEFAULT_TEMPLATE, render_body
from backend.citizen.sms.channel import SmsChannel
from backend.citizen.sms.services import message_for
from backend.citizen.sms.tables import SmsDelivery, SmsSubscription
from backend.citizen.subscriptions.tables import Subscription
from backend.core.accounts.tables import Account
from backend.core.areas import services as areas
from backend.core.categories import services as categories
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import ClaimedMessage
from backend.lib import migrations
from backend.lib.db import Database
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from bench.common import require_empty

TREE = [
    ("VN", "Việt Nam", None, "nation"),
    ("38", "Thanh Hóa", "VN", "province"),
    ("38001", "Xã A", "38", "commune"),
]
BODY = "Đề nghị người dân các thôn ven sông di dời ngay đến nhà văn hóa xã, mang theo giấy tờ. " * 4


class _Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with _Gateway.lock:
            _Gateway.count += 1
            data = b'{"id": "gw-%d"}' % _Gateway.count
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


async def _seed(rt: Runtime, phones: int) -> uuid.UUID:
    records = [areas.AreaRecord(code=c, name=n, parent_code=p, level=lvl) for c, n, p, lvl in TREE]
    async with rt.db.transaction():
        await areas.import_records(rt, records)
    now = rt.clock.now()
    async with rt.db.transaction():
        for i in range(phones):
            account = uuid.uuid4()
            await Account.insert(Account(id=account, kind="citizen", device_id=f"bench-{i}", created_at=now))
            await Subscription.insert(
                Subscription(id=uuid.uuid4(), account=account, area_code="38001", area_path="/VN/38/38001/")
            )
            await SmsSubscription.insert(
                SmsSubscription(id=uuid.uuid4(), account=account, phone=f"09{i:08d}", notices="emergency")
            )
        notice_id = uuid.uuid4()
        await Notice.insert(
            Notice(
                id=notice_id,
                thread_id=notice_id,
                status="published",
                category="disaster",
                priority="emergency",
                owner_area="38001",
                owner_path="/VN/38/38001/",
                texts={"vi": {"title": "Lũ quét", "body": BODY, "summary": ""}},
                created_by=uuid.uuid4(),
                published_at=now,
            )
        )
        await NoticeTarget.insert(
            NoticeTarget(notice=notice_id, area_code="38001", area_path="/VN/38/38001/")
        )
    return notice_id


async def _baseline(url: str, bodies: list[bytes], concurrency: int) -> float:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(headers={"Content-Type": "application/json; charset=utf-8"}) as client:

        async def one(body: bytes) -> None:
            async with limit:
                response = await client.post(url, content=body)
                assert response.status_code == 200

        started = perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return perf_counter() - started


async def run(database_url: str, phones: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/send"
    db = Database(database_url)
    async with db.session(ALL_TABLES):
        await require_empty(db)
        await migrations.migrate(db)
        with tempfile.TemporaryDirectory() as keys:
            settings = Settings(data_dir=Path(keys), sms_gateway_url=url)
            rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
            await categories.seed_defaults(rt)
            notice_id = await _seed(rt, phones)
            notice = await Notice.select().where(Notice.id == notice_id).first()
            sms = message_for(settings, notice, "published", "vi", "ucs2")
            bodies = [
                render_body(
                    DEFAULT_TEMPLATE,
                    {
                        "to": f"09{i:08d}",
                        "text": sms.text,
                        "encoding": "ucs2",
                        "sender": "KENG",
                        "reference": f"{notice_id.hex}-p-{i}",
                        "segments": str(sms.segments),
                    },
                    "application/json",
                ).encode()
                for i in range(phones)
            ]
            baseline = await _baseline(url, bodies, settings.sms_concurrency)
            message = ClaimedMessage(
                id=1, channel="sms", event="published", aggregate_id=str(notice_id), payload={}, attempts=1
            )
            started = perf_counter()
            await SmsChannel(settings)(rt, message)
            real = perf_counter() - started
            sent = await SmsDelivery.count().where(SmsDelivery.status == "sent")
            assert sent == phones, (sent, phones)
    server.shutdown()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"load average: {os.getloadavg()}")
    print(f"database: {db.dialect}; phones: {phones}; message: {sms.segments} UCS-2 segments")
    print(f"bare httpx POSTs        : {baseline:8.3f} s  ({phones / baseline:8.0f} messages/s)")
    print(
        f"sms channel fan-out     : {real:8.3f} s  ({phones / real:8.0f} messages/s)  ratio {real / baseline:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.phones))


if __name__ == "__main__":
    main()
