"""Devices benchmark: an emergency reaching 1,000 simulated devices over Mosquitto.

The server (``create_app``: SQLite, the real MQTT client, the outbox drained in-process) and N
simulated devices (``mobile_client_py.device``: one aiomqtt connection each, own credentials from
the registry's API, Ed25519 check of every manifest, an ack for each) run in one asyncio process
against Mosquitto on 127.0.0.1:1883, in a namespace of their own.

1. **Emergency, one target area** — the commune: approve (``emergency-publish``) → the outbox
   renders the speech, signs and publishes → every device verified it. Latency per device from the
   approve call, and from the server's publish call (broker fan-out + the device's check); then
   until ``GET /api/v1/notices/{id}/emergency-acks`` lists every device's acceptance.
2. **Emergency, ten target areas** — the commune's ten villages (devices spread over them): the
   number of publishes is the number of areas, whatever the number of devices.
3. **Baseline**, same process, same devices: the first emergency's envelope published again raw
   (aiomqtt, QoS 1) on another topic every device subscribes to; they receive, verify and ack it
   the same way — everything but the server's pipeline.
4. **Offline detection** — 50 devices lose their connection without a DISCONNECT (socket shut):
   time until the broker's Last Will reaches a subscriber, and until the server's presence handler
   has marked the device offline in the registry.
5. **Idle traffic** — every PUBLISH under the namespace for ``--idle-seconds`` with all devices
   connected and nothing happening, per device per hour (keep-alive PINGREQ/PINGRESP come on top:
   keepalive 30 s → 120 each way per hour).

    python -m bench.bench_devices                       # 1,000 devices
    python -m bench.bench_devices --devices 200 --idle-seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import uuid
from pathlib import Path
from time import perf_counter

import aiomqtt
import httpx

from backend.adapters.mqtt import BrokerAddress
from backend.app import create_app
from backend.broadcast.tables import Manifest
from backend.core.accounts.tables import Account, RoleGrant
from backend.core.areas import services as areas
from backend.devices.tables import Device
from backend.lib.tokens import issue_access_token
from backend.settings import Settings
from bench.bench_feedback import running
from mobile_client_py.device import Behaviour, Fleet, RealClock, provision
from mobile_client_py.device.fleet import province_keys

VILLAGES = [f"38001-{i:02d}" for i in range(1, 11)]


def quantiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})"


class Observer:
    """A plain subscriber: when each message arrived, by topic."""

    def __init__(self, address: BrokerAddress, topic_filter: str) -> None:
        self.address, self.filter = address, topic_filter
        self.seen: list[tuple[float, str, bytes]] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def _run(self) -> None:
        async with aiomqtt.Client(
            self.address.host, self.address.port, identifier=f"bench-obs-{uuid.uuid4().hex[:8]}"
        ) as client:
            await client.subscribe(self.filter, qos=1)
            self._ready.set()
            async for m in client.messages:
                self.seen.append((perf_counter(), str(m.topic), bytes(m.payload or b"")))

    async def __aenter__(self) -> Observer:
        self._task = asyncio.create_task(self._run())
        await self._ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


# What the server published (when the publish call started, topic, payload), recorded by
# ``count_publishes``: the number of publishes is counted at the source, not at a subscriber.
published: list[tuple[float, str, bytes]] = []


def count_publishes(rt) -> None:
    real = rt.bus.publish

    async def publish(topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        published.append((perf_counter(), topic, payload))
        await real(topic, payload, qos=qos, retain=retain)

    rt.bus.publish = publish


async def all_acks_listed(api, headers, notice_id: str, devices: int) -> float:
    """When ``emergency-acks`` first lists ``devices`` acceptances (polled every 50 ms, every 250 ms
    beyond 1,000 devices, where each look lists them all)."""
    while True:
        r = await api.get(f"/api/v1/notices/{notice_id}/emergency-acks", headers=headers)
        if r.status_code == 200 and r.json()["accepted"] >= devices:
            return perf_counter()
        await asyncio.sleep(0.05 if devices <= 1000 else 0.25)


async def emergency(api, headers, fleet: Fleet, targets: list[str], obs: Observer, label: str) -> dict:
    body = {
        "category": "disaster",
        "priority": "emergency",
        "target_areas": targets,
        "texts": {"vi": {"title": f"Lũ quét ({label})", "body": "Bà con di chuyển lên đồi ngay."}},
    }
    r = await api.post("/api/v1/notices", json=body, headers=headers)
    r.raise_for_status()
    notice = r.json()
    mark = len(published)
    started = perf_counter()
    r = await api.post(f"/api/v1/notices/{notice['id']}/emergency-publish", json={}, headers=headers)
    r.raise_for_status()
    # What staff see, watched from the approval on: every device's acceptance listed.
    listed = asyncio.create_task(all_acks_listed(api, headers, notice["id"], len(fleet.devices)))
    await api.app.state.worker.drain(max_rounds=200)  # type: ignore[attr-defined]
    row = (
        await Manifest.select(Manifest.id).where(Manifest.thread_id == uuid.UUID(notice["thread_id"])).first()
    )
    mid = str(row["id"])
    await fleet.wait_for(lambda d: any(x.manifest_id == mid for x in d.stats.received), 120)
    acks_visible = await listed
    publishes = [s for s in published[mark:] if f"/emergency/{notice['thread_id']}" in s[1] and s[2]]
    first_seen = min(s[0] for s in publishes)
    verified = fleet.verified_at(mid)
    return {
        "label": label,
        "areas": len(targets),
        "publishes": len(publishes),
        "from_approve": [v - started for v in verified],
        "from_publish": [v - first_seen for v in verified],  # server's first publish call → verified
        "manifest_id": mid,
        "acks_visible": acks_visible - started,
        "acks_after_last_verified": acks_visible - max(verified),
        "envelope": publishes[0][2],
        "thread_id": notice["thread_id"],
    }


async def baseline(fleet: Fleet, address: BrokerAddress, root: str, envelope: bytes, mid: str) -> list[float]:
    before = {id(d): len(d.stats.received) for d in fleet.devices}
    async with aiomqtt.Client(
        address.host, address.port, identifier=f"bench-raw-{uuid.uuid4().hex[:8]}"
    ) as raw:
        started = perf_counter()
        await raw.publish(f"{root}/areas/38001/emergency/{uuid.uuid4()}", envelope, qos=1)
        await fleet.wait_for(lambda d: len(d.stats.received) > before[id(d)], 120)
    return [d.stats.received[before[id(d)]].verified_at - started for d in fleet.devices]


async def bench(args: argparse.Namespace, data_dir: Path) -> None:
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'keng.db'}",
        mqtt_url=args.mqtt,
        mqtt_namespace=f"bench{uuid.uuid4().hex[:10]}",
        run_workers=False,
    )
    address = BrokerAddress.parse(args.mqtt)
    app = create_app(settings)
    async with running(app):
        rt = app.state.rt
        count_publishes(rt)
        records = [
            areas.AreaRecord("VN", "Việt Nam", "nation", None),
            areas.AreaRecord("38", "Thanh Hóa", "province", "VN"),
            areas.AreaRecord("38001", "Xã Hoằng Hóa", "commune", "38"),
            *[areas.AreaRecord(v, f"Thôn {i + 1}", "village", "38001") for i, v in enumerate(VILLAGES)],
        ]
        async with rt.db.transaction():
            await areas.import_records(rt, records)
        leader = uuid.uuid4()
        await Account.insert(Account(id=leader, kind="staff", username="bench-leader"))
        await RoleGrant.insert(
            RoleGrant(id=uuid.uuid4(), account=leader, role="commune_leader", area="38001")
        )
        token = issue_access_token(
            rt.jwt_keys, subject=str(leader), kind="staff", now=rt.clock.now(), minutes=600
        )
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as api:
            api.app = app  # type: ignore[attr-defined]
            (
                await api.post("/api/v1/broadcast/stations", json={"area_code": "38001"}, headers=headers)
            ).raise_for_status()
            await app.state.worker.drain(max_rounds=200)
            t = perf_counter()
            identities, root = await provision(
                api, headers, count=args.devices, area_codes=VILLAGES, concurrency=8
            )
            print(
                f"provisioned {args.devices} devices (registry + own credentials) in {perf_counter() - t:.1f} s"
            )
            # Setup, not measured: each new credential queued its device's desired state.
            await app.state.worker.drain(max_rounds=1_000_000)
            fleet = Fleet(identities, address.host, address.port, root, await province_keys(api), RealClock(),
                          Behaviour(play=False, offline_seconds=3600))  # fmt: skip
            t = perf_counter()
            await fleet.start(wait_seconds=300)
            print(f"connected {args.devices} devices in {perf_counter() - t:.1f} s")
            async with Observer(address, f"{root}/#") as obs:
                await asyncio.sleep(2)  # retained group manifests and the devices' acks settle
                one = await emergency(api, headers, fleet, ["38001"], obs, "1 area")
                await asyncio.sleep(2)
                ten = await emergency(api, headers, fleet, VILLAGES, obs, "10 areas")
                await asyncio.sleep(2)
                base = await baseline(fleet, address, root, one["envelope"], one["manifest_id"])
                for run in (one, ten):
                    print(
                        f"emergency, {run['areas']} target area(s): {run['publishes']} publishes for {args.devices} devices"
                    )
                    print(f"  approve → verified: {quantiles(run['from_approve'])}")
                    print(f"  server publish → verified: {quantiles(run['from_publish'])}")
                    print(
                        f"  approve → every acceptance listed by emergency-acks: {run['acks_visible'] * 1000:.0f} ms"
                        f" ({run['acks_after_last_verified'] * 1000:.0f} ms after the last device verified)"
                    )
                print(f"baseline raw publish → verified: {quantiles(base)}")
                p50 = statistics.median(one["from_publish"]) / statistics.median(base)
                print(f"ratio (server publish → verified) / baseline, p50: {p50:.2f}")
                await asyncio.sleep(3)
                mark = len(obs.seen)
                t0 = perf_counter()
                await asyncio.sleep(args.idle_seconds)
                idle = len(obs.seen) - mark
                hours = (perf_counter() - t0) / 3600
                print(
                    f"idle: {idle} publishes in {args.idle_seconds} s = {idle / args.devices / hours:.2f} per device per hour"
                )
                dropped = fleet.devices[:50]
                marks: dict[str, float] = {}
                for d in dropped:
                    marks[d.own("status")] = perf_counter()
                    d.drop()

                def offline_seen() -> dict[str, float]:
                    return {
                        t: at for at, t, p in obs.seen if t in marks and b'"offline"' in p and at >= marks[t]
                    }

                while len(offline_seen()) < len(dropped):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                print(
                    f"offline (Last Will) seen: {quantiles([at - marks[t] for t, at in offline_seen().items()])}"
                )
                # The server's presence handler marks them offline in the registry.
                ids = {uuid.UUID(d.identity.device_id): marks[d.own("status")] for d in dropped}
                marked: dict[uuid.UUID, float] = {}
                while len(marked) < len(ids):
                    rows = await Device.select(Device.id).where(
                        Device.id.is_in(list(ids)) & (Device.state == "offline")
                    )
                    now = perf_counter()
                    for r in rows:
                        marked.setdefault(r["id"], now)
                    await asyncio.sleep(0.01)
                print(f"offline in the registry: {quantiles([marked[k] - ids[k] for k in ids])}")
            await fleet.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()}"
    )
    with tempfile.TemporaryDirectory(prefix="keng-bench-devices-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
