"""Web Push fan-out benchmark: one notice to N subscriptions against a loopback push service.

The whole ``push`` channel handler runs as in production — plan one delivery row per device,
claim pages, encrypt (RFC 8291, pywebpush), sign VAPID once per origin, POST over kept-alive
connections, record every outcome — on a fresh SQLite database with N citizens, each following
the notice's commune with one Web Push subscription. The push service is a separate process on
127.0.0.1 that answers 201, verifies every distinct VAPID header and decrypts a sample of the
messages with the subscription's private key (a broken sender would show up as rejections).

Baseline, same process, same payload: the bare encryption rate (``encrypt`` in a loop, one core,
over every device key pair of the pool as the fan-out has them), in short slices timed by the
thread's CPU clock. The ratio's baseline is taken *during* the fan-out: every ~1 s of fan-out a
task on the event loop runs a ~0.2 s slice (the loop is blocked meanwhile, so the fan-out pauses),
and the slices' CPU and wall time are taken off the fan-out's. This host's speed drifts by a quarter or more
over tens of seconds, and the fan-out's own rate follows it; a baseline measured only before and
after the fan-out (five one-second slices each, still reported so the drift shows) compares it
with other moments, which is what made the ratio move between runs. The median of the interleaved
slices compares the fan-out with the encryption at the same moments (the host's fast spells
still speed the encryption up more than the fan-out's other work, so some spread remains).
Reported: messages/s, CPU cores the fan-out process used (CPU time / wall time), and
``ratio = (messages/s per core used) / bare encryption rate``, both per CPU second of this process
so that other load on the machine does not skew it — the share of the fan-out's CPU that goes to
the encryption itself (target ≥ 0.8). The run fails (exit status 1) unless every subscription was
sent and the push service rejected none::

    python -m bench.bench_webpush                 # 100,000 subscriptions
    python -m bench.bench_webpush --count 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.adapters import push as push_adapter
from backend.adapters.clock import SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.adapters.push import WebPushTarget, b64url, encrypt
from backend.citizen.push import channel as push_channel
from backend.citizen.push.tables import PushDelivery
from backend.core.areas import services as areas
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import ClaimedMessage
from backend.lib import migrations
from backend.lib.db import Database
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES

KEY_POOL = 500  # distinct device key pairs; every subscription has its own endpoint and auth secret
SAMPLE_EVERY = 97  # the push service decrypts one message in this many


# --------------------------------------------------------------------------- loopback push service


def push_service_main(port_queue: Any, keys_file: str) -> None:
    """A fast HTTP/1.1 push service (asyncio + httptools) in its own process."""
    import http_ece
    import httptools
    from py_vapid import jwt as vapid_jwt

    keys = json.loads(Path(keys_file).read_text())
    private = [serialization.load_pem_private_key(k["pem"].encode(), None) for k in keys["devices"]]
    stats = {"received": 0, "decrypted": 0, "rejected": 0, "vapid_checked": 0, "connections": 0}
    vapid_ok: set[str] = set()

    def check(path: str, headers: dict[str, str], body: bytes) -> int:
        # /push/<n>/<key index>/<auth b64>
        _, _, n, key_index, auth = path.split("/")
        auth_header = headers.get("authorization", "")
        if auth_header not in vapid_ok:
            parts = dict(p.split("=", 1) for p in auth_header.split(" ", 1)[1].split(","))
            claims = vapid_jwt.decode(parts["t"], parts["k"])
            if parts["k"] != keys["vapid"] or not claims["aud"].startswith("http://127.0.0.1:"):
                return 401
            vapid_ok.add(auth_header)
            stats["vapid_checked"] += 1
        if int(headers.get("ttl", "0")) < 1 or headers.get("content-encoding") != "aes128gcm":
            return 400
        if int(n) % SAMPLE_EVERY == 0:
            from backend.adapters.push import b64url_decode

            plain = http_ece.decrypt(
                body,
                private_key=private[int(key_index)],
                auth_secret=b64url_decode(auth),
                version="aes128gcm",
            )
            json.loads(plain)
            stats["decrypted"] += 1
        return 201

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)
            self.headers: dict[str, str] = {}
            self.body: list[bytes] = []
            self.out: list[bytes] = []
            stats["connections"] += 1

        def data_received(self, data: bytes) -> None:
            self.parser.feed_data(data)
            if self.out:
                self.transport.write(b"".join(self.out))
                self.out.clear()

        def on_url(self, url: bytes) -> None:
            self.url = url.decode()

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers[name.decode().lower()] = value.decode()

        def on_body(self, body: bytes) -> None:
            self.body.append(body)

        def on_message_complete(self) -> None:
            if self.url == "/stats":
                data = json.dumps(stats).encode()
                self.out.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
            else:
                stats["received"] += 1
                try:
                    status = check(self.url, self.headers, b"".join(self.body))
                except Exception:
                    status = 400
                if status != 201:
                    stats["rejected"] += 1
                reason = b"Created" if status == 201 else b"Rejected"
                self.out.append(b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n" % (status, reason))
            self.headers, self.body = {}, []

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Protocol, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    _run(main())


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


# --------------------------------------------------------------------------- data


def device_keys(n: int) -> list[tuple[ec.EllipticCurvePrivateKey, str]]:
    out = []
    for _ in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        out.append((key, b64url(raw)))
    return out


async def seed_notice(rt: Runtime) -> uuid.UUID:
    """The area tree and one published emergency notice for commune 38001, through the models."""
    records = [
        areas.AreaRecord(code="VN", name="Việt Nam", parent_code=None, level="nation"),
        areas.AreaRecord(code="38", name="Thanh Hóa", parent_code="VN", level="province"),
        areas.AreaRecord(code="38001", name="Xã Hoằng Hóa", parent_code="38", level="commune"),
    ]
    async with rt.db.transaction():
        await areas.import_records(rt, records)
    now = rt.clock.now()
    notice_id = uuid.uuid4()
    texts = {
        "vi": {
            "title": "Cảnh báo lũ quét",
            "body": "Mưa lớn kéo dài, nguy cơ lũ quét và sạt lở đất. " * 20,
            "summary": "Mưa lớn kéo dài; người dân vùng trũng chủ động sơ tán.",
        }
    }
    await Notice.insert(
        Notice(
            id=notice_id,
            thread_id=notice_id,
            status="published",
            category="disaster",
            priority="emergency",
            owner_area="38001",
            owner_path="/VN/38/38001/",
            texts=texts,
            valid_until=now + timedelta(hours=6),
            created_by=uuid.uuid4(),
            published_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    await NoticeTarget.insert(NoticeTarget(notice=notice_id, area_code="38001", area_path="/VN/38/38001/"))
    return notice_id


def seed_citizens(db_path: Path, count: int, port: int, devices: list[tuple[Any, str]]) -> None:
    """N citizens following commune 38001, each with one Web Push subscription (bulk, sqlite3)."""
    now = datetime.now(UTC).isoformat()
    accounts, subs, regs = [], [], []
    for i in range(count):
        acc = str(uuid.uuid4())
        accounts.append((acc, now))
        subs.append((str(uuid.uuid4()), acc, now))
        key_index = i % len(devices)
        auth = b64url(os.urandom(16))
        endpoint = f"http://127.0.0.1:{port}/push/{i}/{key_index}/{auth}"
        key = uuid.uuid4().hex + uuid.uuid4().hex
        regs.append((str(uuid.uuid4()), acc, endpoint, key, devices[key_index][1], auth, now))
    conn = sqlite3.connect(db_path)
    conn.executemany(
        'INSERT INTO "account" ("id", "kind", "full_name", "language", "active", "created_at") '
        "VALUES (?, 'citizen', '', 'vi', 1, ?)",
        accounts,
    )
    conn.executemany(
        'INSERT INTO "subscription" ("id", "account", "area_code", "area_path", "categories", "created_at") '
        "VALUES (?, ?, '38001', '/VN/38/38001/', '[]', ?)",
        subs,
    )
    conn.executemany(
        'INSERT INTO "push_registration" ("id", "account", "kind", "endpoint", "endpoint_key", "p256dh", '
        '"auth", "device_id", "language", "created_at", "pruned_reason") '
        "VALUES (?, ?, 'webpush', ?, ?, ?, ?, '', 'vi', ?, '')",
        regs,
    )
    conn.commit()
    conn.close()


# --------------------------------------------------------------------------- measurement


class EncryptionSlices:
    """Bare encryptions in timed slices, over every device key pair of the pool, each target with
    its own endpoint and auth secret as the fan-out has them.

    A slice is timed by the calling thread's CPU clock (other threads of the process, such as a
    database thread finishing a fan-out's claim, are not counted) and by wall time; callers take
    medians, so a slice that another job on the machine interrupted, or one still warming up,
    does not move the rate."""

    def __init__(self, payload: bytes, devices: list[tuple[Any, str]]) -> None:
        self.payload = payload
        self.targets = [
            WebPushTarget(
                f"http://127.0.0.1:1/push/{i}/{i}/{b64url(os.urandom(16))}", pub, b64url(os.urandom(16))
            )
            for i, (_, pub) in enumerate(devices)
        ]
        self.taken: list[tuple[int, float, float]] = []  # (encryptions, wall s, CPU s) per slice

    def run(self, seconds: float) -> tuple[int, float, float]:
        targets, payload = self.targets, self.payload
        n, start, cpu = 0, time.perf_counter(), time.thread_time()
        while time.perf_counter() - start < seconds:
            for t in targets[n % len(targets) : n % len(targets) + 50]:
                encrypt(t, payload)
            n += 50
        taken = (n, time.perf_counter() - start, time.thread_time() - cpu)
        self.taken.append(taken)
        return taken

    def rates(self) -> tuple[float, float]:
        """Median encryptions per wall second and per CPU second of the slices taken."""
        return (
            statistics.median(n / wall for n, wall, _ in self.taken),
            statistics.median(n / cpu for n, _, cpu in self.taken),
        )

    def spent(self) -> tuple[float, float]:
        """Wall and CPU seconds of all the slices taken."""
        return sum(w for _, w, _ in self.taken), sum(c for _, _, c in self.taken)


async def interleave(slices: EncryptionSlices, every: float, seconds: float) -> None:
    """A slice every ``every`` seconds, run on the event loop: the fan-out waits meanwhile."""
    while True:
        await asyncio.sleep(every)
        slices.run(seconds)


async def stats_of(port: int) -> dict[str, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
    )
    body = await reader.readexactly(length)
    writer.close()
    return json.loads(body)


async def fan_out(args: argparse.Namespace, data_dir: Path, port: int) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir, webpush_hosts="127.0.0.1", push_concurrency=args.concurrency)
    db = Database(settings.effective_database_url)
    async with db.session(ALL_TABLES):
        await migrations.migrate(db)
        rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
        notice_id = await seed_notice(rt)
        started = time.perf_counter()
        seed_citizens(db.path, args.count, port, args.devices)
        seeded = time.perf_counter() - started
        handler = push_channel.PushChannel(settings)
        notice = await Notice.select().where(Notice.id == notice_id).first()
        payload = push_channel.message_for(notice, "published", "vi")
        payload_bytes = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        devices = args.devices
        before = EncryptionSlices(payload_bytes, devices)
        for _ in range(5):
            before.run(1.0)
        during = EncryptionSlices(payload_bytes, devices)
        message = ClaimedMessage(1, "push", "published", str(notice_id), {}, 1)
        inside = [0, 0.0]  # with --split: encryptions inside the fan-out and their thread CPU
        if args.split:

            def timed(target: WebPushTarget, payload: bytes) -> bytes:
                t = time.thread_time()
                try:
                    return encrypt(target, payload)
                finally:
                    inside[0] += 1
                    inside[1] += time.thread_time() - t

            push_adapter.encrypt = timed  # type: ignore[assignment]
        cpu0, wall0, loop0 = time.process_time(), time.perf_counter(), time.thread_time()
        sampler = asyncio.get_running_loop().create_task(interleave(during, args.every, args.slice))
        try:
            await handler(rt, message)
        finally:
            sampler.cancel()
            push_adapter.encrypt = encrypt
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        loop_cpu = time.thread_time() - loop0
        sliced_wall, sliced_cpu = during.spent()
        if not during.taken:  # a fan-out shorter than one interval: one slice right after it
            during.run(args.slice)
        after = EncryptionSlices(payload_bytes, devices)
        for _ in range(5):
            after.run(1.0)
        sent = await PushDelivery.count().where(PushDelivery.status == "sent")
        service = await stats_of(port)
        return {
            "wall": wall - sliced_wall,
            "cpu": cpu - sliced_cpu,
            "loop_cpu": loop_cpu - sliced_cpu,
            "sent": sent,
            "baseline": during.rates()[0],
            "baseline_cpu": during.rates()[1],
            "baselines": (before.rates()[1], during.rates()[1], after.rates()[1]),
            "slices": len(during.taken),
            "inside": inside,
            "sliced": (sliced_wall, sliced_cpu),
            "service": service,
            "signatures": handler._signer.signatures if handler._signer else 0,
            "payload_bytes": len(payload_bytes),
            "seeded": seeded,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=100_000, help="subscriptions (default 100,000; max 200,000)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=64, help="requests in flight (KENG_PUSH_CONCURRENCY)"
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="time every encryption inside the fan-out too (two clock reads a message more)",
    )
    parser.add_argument(
        "--every", type=float, default=1.0, help="seconds of fan-out between baseline slices (default 1)"
    )
    parser.add_argument(
        "--slice", type=float, default=0.2, help="seconds of each baseline slice during the fan-out"
    )
    args = parser.parse_args(argv)
    args.count = max(1, min(args.count, 200_000))

    with tempfile.TemporaryDirectory(prefix="keng-bench-webpush-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        from backend.citizen.push.services import vapid_keys

        vapid = vapid_keys(settings)
        args.devices = device_keys(KEY_POOL)
        keys_file = data_dir / "devices.json"
        keys_file.write_text(
            json.dumps(
                {
                    "vapid": vapid.public_key,
                    "devices": [
                        {
                            "pem": k.private_bytes(
                                serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption(),
                            ).decode()
                        }
                        for k, _ in args.devices
                    ],
                }
            )
        )
        ctx = multiprocessing.get_context("spawn")
        ports = ctx.Queue()
        service = ctx.Process(target=push_service_main, args=(ports, str(keys_file)), daemon=True)
        service.start()
        try:
            port = ports.get(timeout=30)
            result = _run(fan_out(args, data_dir, port))
        finally:
            service.terminate()
            service.join(5)
    if not report(args, result):
        sys.exit(1)


def report(args: argparse.Namespace, r: dict[str, Any]) -> bool:
    """Print the results; False when the totals do not add up (a message lost or rejected)."""
    rate = r["sent"] / r["wall"]
    cores = r["cpu"] / r["wall"]
    per_core = r["sent"] / r["cpu"]
    ratio = per_core / r["baseline_cpu"]
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    svc = r["service"]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, {loop}"
    )
    print(
        f"subscriptions: {args.count:,} (seeded in {r['seeded']:.1f}s), concurrency {args.concurrency}, payload {r['payload_bytes']} B"
    )
    before, during, after = r["baselines"]
    print(
        f"bare encryption (pywebpush, 1 core) per CPU second, medians of slices: before {before:,.0f}, "
        f"during {during:,.0f} ({r['slices']} slices of {args.slice:g}s, one every {args.every:g}s of "
        f"fan-out: {r['sliced'][1]:.2f}s CPU, {r['sliced'][0]:.2f}s wall, taken off the fan-out's), after {after:,.0f}"
    )
    print(
        f"fan-out: {r['sent']:,} sent in {r['wall']:.2f}s = {rate:,.0f} msg/s; CPU {r['cpu']:.2f}s = {cores:.2f} cores"
    )
    print(
        f"CPU split: event-loop thread {r['loop_cpu']:.2f}s, database driver threads {r['cpu'] - r['loop_cpu']:.2f}s; "
        f"encryption alone would take {r['sent'] / r['baseline_cpu']:.2f}s"
    )
    print(
        f"CPU per message: {r['cpu'] / r['sent'] * 1e6:.1f} µs, of which beyond the bare encryption "
        f"{(r['cpu'] / r['sent'] - 1 / r['baseline_cpu']) * 1e6:.1f} µs"
    )
    if args.split and r["inside"][0]:
        n, spent = r["inside"]
        print(
            f"split per message: encryption inside the fan-out {spent / n * 1e6:.1f} µs (bare, during: "
            f"{1e6 / r['baseline_cpu']:.1f}), rest of the event loop {(r['loop_cpu'] - spent) / r['sent'] * 1e6:.1f} µs, "
            f"database threads {(r['cpu'] - r['loop_cpu']) / r['sent'] * 1e6:.1f} µs"
        )
    print(
        f"per core used: {per_core:,.0f} msg/s; bare encryption per CPU second (during) {r['baseline_cpu']:,.0f}; "
        f"ratio: {ratio:.2f} (target >= 0.8); wall-rate ratio {rate / r['baseline']:.2f}"
    )
    print(
        f"push service: received {svc['received']:,}, rejected {svc['rejected']}, decrypted sample {svc['decrypted']:,}, "
        f"VAPID headers verified {svc['vapid_checked']}, connections {svc['connections']}; VAPID signatures made {r['signatures']}"
    )
    whole = r["sent"] == args.count == svc["received"] and svc["rejected"] == 0
    print(
        "totals: "
        + ("OK" if whole else "WRONG")
        + f" (sent {r['sent']:,} of {args.count:,}, push service received {svc['received']:,}, rejected {svc['rejected']})"
    )
    return whole


if __name__ == "__main__":
    main()
