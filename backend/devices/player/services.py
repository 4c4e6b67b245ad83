"""A board's current manifests, read from the manifest store."""

from __future__ import annotations

import hashlib

import msgspec

from backend.broadcast.manifests import store
from backend.broadcast.tables import Manifest
from backend.devices.access import AuthenticatedDevice, area_codes_on_path
from backend.devices.player.schemas import BoardManifests
from backend.runtime import Runtime


async def board_manifests(rt: Runtime, device: AuthenticatedDevice) -> BoardManifests:
    eboard = None
    if device.group_id is not None:
        row = await (
            Manifest.select(Manifest.envelope)
            .where(
                (Manifest.group_id == device.group_id)
                & (Manifest.kind == "eboard")
                & (Manifest.current == True)  # noqa: E712 (SQL)
                & (Manifest.valid_until > rt.clock.now())
            )
            .first()
        )
        eboard = row["envelope"] if row else None
    emergencies = [
        e.decode() for e in await store.active_emergencies(rt, area_codes_on_path(device.area_path))
    ]
    digest = hashlib.sha256("\n".join([eboard or "", *emergencies]).encode()).hexdigest()[:32]
    return BoardManifests(
        eboard=msgspec.json.decode(eboard) if eboard else None,
        emergencies=[msgspec.json.decode(e) for e in emergencies],
        etag=f'"{digest}"',
    )
