"""A board's current manifests: its group's e-board playlist and the emergencies in force."""

from __future__ import annotations

from backend.devices.access import AuthenticatedDevice
from backend.devices.in_force import manifests_in_force
from backend.devices.player.schemas import BoardManifests
from backend.runtime import Runtime


async def board_manifests(rt: Runtime, device: AuthenticatedDevice) -> BoardManifests:
    current = await manifests_in_force(rt, device)
    return BoardManifests(
        eboard=current.group.get("eboard"), emergencies=current.emergencies, etag=current.etag
    )
