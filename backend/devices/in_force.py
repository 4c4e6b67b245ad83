"""The signed manifests in force for one device, read from the manifest store: what it would hold
had it been subscribed on MQTT all along. Devices on the HTTP fallback and the e-board player poll
this; the ETag lets an unchanged poll cost a 304."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.broadcast.manifests import store
from backend.broadcast.tables import Manifest
from backend.devices.access import AuthenticatedDevice, area_codes_on_path
from backend.runtime import Runtime


@dataclass(frozen=True)
class InForce:
    group: dict[str, dict[str, Any]]  # manifest kind → envelope of the device's station group
    emergencies: list[dict[str, Any]]  # envelopes in force for any area on its path, oldest first
    etag: str


async def manifests_in_force(rt: Runtime, device: AuthenticatedDevice) -> InForce:
    rows = (
        await Manifest.select(Manifest.kind, Manifest.envelope)
        .where(
            (Manifest.group_id == device.group_id)
            & (Manifest.current == True)  # noqa: E712 (SQL)
            & (Manifest.valid_until > rt.clock.now())
        )
        .order_by(Manifest.kind)
        if device.group_id is not None
        else []
    )
    emergencies = [
        e.decode() for e in await store.active_emergencies(rt, area_codes_on_path(device.area_path))
    ]
    texts = [r["envelope"] for r in rows] + emergencies
    return InForce(
        group={r["kind"]: msgspec.json.decode(r["envelope"]) for r in rows},
        emergencies=[msgspec.json.decode(e) for e in emergencies],
        etag=f'"{hashlib.sha256(chr(10).join(texts).encode()).hexdigest()[:32]}"',
    )
