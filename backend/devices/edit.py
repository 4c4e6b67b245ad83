"""Editing a registered device: name, place (area and station group), location, capabilities,
firmware, notes. A device moved to another area or group gets other topics: in the same
transaction its new placement becomes a desired field under a new version, published retained to
the device, which then subscribes to its new topics; its broker session is dropped so the broker
checks it against the new ones (on Mosquitto the ACL changes at once when Kẻng keeps its files,
with ``KENG_MOSQUITTO_AUTH_DIR``, or else at the next export)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.devices import access
from backend.devices.health.state import placement_of, store_desired
from backend.devices.schemas import DeviceOut, DevicePatch
from backend.devices.services import device_out, load, place, read_grant
from backend.devices.tables import Device
from backend.lib.errors import Conflict, ValidationFailed
from backend.lib.i18n import nfc
from backend.runtime import Runtime


def stale(current: int) -> Conflict:
    """Someone saved a newer version first; the client reloads and edits that one."""
    return Conflict(
        "stale_version", message_key="error.stale_row", current=current, details={"row_version": current}
    )


async def edit(rt: Runtime, actor: Actor, device_id: uuid.UUID, patch: DevicePatch) -> DeviceOut:
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    grant = actor.require(Permission.DEVICE_MANAGE, [row["area_path"]])
    changes: dict[Any, Any] = {}
    moved = patch.area_code is not None or patch.group_id is not None
    relocated: dict[str, Any] | None = None  # the new placement, when it differs
    if moved:
        placement = await place(patch.area_code or row["area_code"], patch.group_id)
        actor.require(Permission.DEVICE_MANAGE, [placement.area_path])
        new_place = placement_of(
            {
                "area_code": placement.area_code,
                "area_path": placement.area_path,
                "group_id": placement.group_id,
            }
        )
        if new_place != placement_of(row):
            relocated = new_place
        changes |= {
            Device.area_code: placement.area_code,
            Device.area_path: placement.area_path,
            Device.station_id: placement.station_id,
            Device.group_id: placement.group_id,
        }
    latitude = patch.latitude if patch.latitude is not None else row["latitude"]
    longitude = patch.longitude if patch.longitude is not None else row["longitude"]
    if (latitude is None) != (longitude is None):
        raise ValidationFailed(
            [{"field": "latitude", "reason": "give both latitude and longitude, or neither"}]
        )
    changes |= {Device.latitude: latitude, Device.longitude: longitude}
    if patch.name is not None:
        changes[Device.name] = nfc(patch.name.strip())
    if patch.capabilities is not None:
        changes[Device.capabilities] = msgspec.to_builtins(patch.capabilities)
    if patch.firmware is not None:
        changes[Device.firmware] = patch.firmware
    if patch.notes is not None:
        changes[Device.notes] = nfc(patch.notes)
    now = rt.clock.now()
    async with rt.db.transaction():
        done = await (
            Device.update({**changes, Device.row_version: Device.row_version + 1, Device.updated_at: now})
            .where((Device.id == device_id) & (Device.row_version == patch.row_version))
            .returning(Device.id)
        )
        if not done:
            raise stale((await load(device_id))["row_version"])
        details = {
            k: v for k, v in msgspec.to_builtins(patch).items() if v is not None and k != "row_version"
        }
        if relocated is not None:
            details["desired_version"] = await store_desired(rt, device_id, {"placement": relocated})
        await audit.record(
            rt,
            actor,
            "device.edit",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details=details,
        )
    if moved:
        await access.credentials_changed(rt, device_id)  # the guard drops sessions on old topics
    return await device_out(await load(device_id))
