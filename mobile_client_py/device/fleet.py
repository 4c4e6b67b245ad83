"""Many simulated devices in one process: provisioning through the registry's API, starting and
stopping them together, and waiting for what they received."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mobile_client_py.device.clock import SimClock
from mobile_client_py.device.sim import Behaviour, Identity, SimulatedDevice
from mobile_client_py.manifest import ManifestVerifier, keys_from_response

CONNECT_BATCH = 50  # devices connecting at once, so a broker's accept queue is not flooded


async def provision(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    count: int,
    area_codes: list[str],
    kind: str = "cluster",
    name: str = "Thiết bị mô phỏng",
    concurrency: int = 1,
) -> tuple[list[Identity], str]:
    """Register ``count`` devices round-robin over ``area_codes`` and issue each its own
    credentials (``concurrency`` at a time); returns the identities, in order, and the MQTT topic
    root the server names."""
    gate = asyncio.Semaphore(concurrency)
    roots: set[str] = set()

    async def one(i: int) -> Identity:
        async with gate:
            r = await api.post(
                "/api/v1/devices",
                json={"kind": kind, "area_code": area_codes[i % len(area_codes)], "name": f"{name} {i + 1}"},
                headers=headers,
            )
            r.raise_for_status()
            device = r.json()
            c = await api.post(f"/api/v1/devices/{device['id']}/credentials", headers=headers)
            c.raise_for_status()
            creds = c.json()
        roots.add(creds["mqtt_topic_root"])
        return Identity(
            device_id=creds["username"],
            password=creds["password"],
            kind=kind,
            area_path=device["area_path"],
            group_id=device["group_id"],
        )

    identities = list(await asyncio.gather(*(one(i) for i in range(count))))
    return identities, roots.pop() if roots else ""


async def province_keys(api: httpx.AsyncClient) -> dict[str, Ed25519PublicKey]:
    r = await api.get("/api/v1/keys/province")
    r.raise_for_status()
    return keys_from_response(r.json())


class Fleet:
    def __init__(
        self,
        identities: list[Identity],
        host: str,
        port: int,
        root: str,
        keys: dict[str, Ed25519PublicKey],
        clock: SimClock,
        behaviour: Behaviour | None = None,
    ) -> None:
        behaviour = behaviour or Behaviour()
        self.devices = [
            SimulatedDevice(
                identity,
                host,
                port,
                root,
                ManifestVerifier(keys),
                clock,
                Behaviour(**{**behaviour.__dict__, "seed": (behaviour.seed or 0) * 100_003 + i}),
            )
            for i, identity in enumerate(identities)
        ]

    async def start(self, wait_seconds: float = 60.0) -> None:
        """Connect every device (in batches) and wait until all are online."""
        for i in range(0, len(self.devices), CONNECT_BATCH):
            batch = self.devices[i : i + CONNECT_BATCH]
            for device in batch:
                device.start()
            async with asyncio.timeout(wait_seconds):
                await asyncio.gather(*(d.connected.wait() for d in batch))

    async def stop(self) -> None:
        await asyncio.gather(*(d.stop() for d in self.devices))

    def count(self, predicate: Callable[[SimulatedDevice], bool]) -> int:
        return sum(1 for d in self.devices if predicate(d))

    async def wait_for(
        self, predicate: Callable[[SimulatedDevice], bool], wait_seconds: float = 30.0, every: float = 0.01
    ) -> None:
        """Until every device satisfies ``predicate`` (a generous wait, not a measurement)."""
        async with asyncio.timeout(wait_seconds):
            while not all(predicate(d) for d in self.devices):  # noqa: ASYNC110 (polls device state)
                await asyncio.sleep(every)

    def verified_at(self, manifest_id: str) -> list[float]:
        """``time.perf_counter()`` moments at which each device verified ``manifest_id``."""
        return [r.verified_at for d in self.devices for r in d.stats.received if r.manifest_id == manifest_id]

    def summary(self) -> dict[str, Any]:
        stats = [d.stats for d in self.devices]
        return {
            "devices": len(self.devices),
            "online": self.count(lambda d: d.connected.is_set()),
            "manifests_verified": sum(len(s.received) for s in stats),
            "manifests_rejected": sum(len(s.rejected) for s in stats),
            "acks": sum(s.acks for s in stats),
            "proofs": sum(s.proofs for s in stats),
            "replies": sum(s.replies for s in stats),
            "drops": sum(s.drops for s in stats),
            "at": time.strftime("%H:%M:%S"),
        }
