"""The device registry and device credentials: what the rest of Kẻng asks about devices.

A device is registered in an area (its commune or a village of it) and plays one station group —
the default group of the commune's station unless another of that station's groups is named.
Each device has its own password (never a shared one), issued on demand and shown once; issuing
a new one revokes the old ones, so rotation and revocation are the same mechanism. The device's
id is its MQTT and HTTP username. :func:`authenticate_device` and :func:`device_topics_allowed`
are what the broker, the HTTP fallback and the e-board player check against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.broadcast.tables import Station, StationGroup
from backend.core.accounts.permissions import Actor, Grant, Permission
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.devices.access import AuthenticatedDevice, authenticate_device, device_topics_allowed
from backend.devices.schemas import Capabilities, DeviceIn, DeviceList, DeviceOut
from backend.devices.tables import Device, DeviceCredential
from backend.lib.db import json_column
from backend.lib.errors import Conflict, NotFound, ValidationFailed, field_error
from backend.lib.i18n import nfc
from backend.lib.paging import decode_cursor, encode_cursor
from backend.runtime import Runtime

MAX_PAGE = 500
__all__ = ["AuthenticatedDevice", "authenticate_device", "device_topics_allowed"]


# --- registry ---------------------------------------------------------------------------------------


async def load(device_id: uuid.UUID) -> dict[str, Any]:
    row = await Device.select().where(Device.id == device_id).first()
    if row is None:
        raise NotFound("device", details={"id": str(device_id)})
    return row


def to_out(row: dict[str, Any], credential_version: int | None) -> DeviceOut:
    return DeviceOut(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        hardware_id=row["hardware_id"],
        area_code=row["area_code"],
        area_path=row["area_path"],
        station_id=row["station_id"],
        group_id=row["group_id"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        capabilities=msgspec.convert(json_column(row["capabilities"], {}), Capabilities),
        firmware=row["firmware"],
        notes=row["notes"],
        status=row["status"],
        claimed_at=row["claimed_at"],
        state=row["state"],
        state_since=row["state_since"],
        last_activity_at=row["last_activity_at"],
        credential_version=credential_version,
        row_version=row["row_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def current_versions(device_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The version of each device's live (unrevoked) credential."""
    if not device_ids:
        return {}
    rows = await DeviceCredential.select(DeviceCredential.device_id, DeviceCredential.version).where(
        DeviceCredential.device_id.is_in(device_ids) & DeviceCredential.revoked_at.is_null()
    )
    return {r["device_id"]: r["version"] for r in rows}


async def device_out(row: dict[str, Any]) -> DeviceOut:
    versions = await current_versions([row["id"]])
    return to_out(row, versions.get(row["id"]))


@dataclass(frozen=True)
class Placement:
    area_code: str
    area_path: str
    station_id: uuid.UUID | None
    group_id: uuid.UUID | None


async def place(area_code: str, group_id: uuid.UUID | None, field_prefix: str = "") -> Placement:
    """Where a device sits: its area, and the station group it plays (validated against the area)."""
    area = await Area.select(Area.code, Area.path).where(Area.code == area_code).first()
    if area is None:
        raise field_error(f"{field_prefix}area_code", f"unknown area code {area_code}")
    path = area["path"]
    stations = await Station.select(Station.id, Station.area_path)
    covering = [s for s in stations if path.startswith(s["area_path"])]
    station = max(covering, key=lambda s: len(s["area_path"])) if covering else None
    if group_id is not None:
        group = await StationGroup.select().where(StationGroup.id == group_id).first()
        if group is None:
            raise field_error(f"{field_prefix}group_id", f"unknown station group {group_id}")
        if station is None or group["station_id"] != station["id"]:
            raise field_error(f"{field_prefix}group_id", "the group belongs to another commune's station")
        return Placement(area_code, path, station["id"], group_id)
    if station is None:
        return Placement(area_code, path, None, None)
    default = await (
        StationGroup.select(StationGroup.id)
        .where((StationGroup.station_id == station["id"]) & (StationGroup.is_default == True))  # noqa: E712
        .first()
    )
    return Placement(area_code, path, station["id"], default["id"] if default else None)


def new_device(data: DeviceIn, placement: Placement, now: Any) -> Device:
    return Device(
        id=uuid.uuid4(),
        kind=data.kind,
        name=nfc(data.name.strip()),
        hardware_id=data.hardware_id,
        area_code=placement.area_code,
        area_path=placement.area_path,
        station_id=placement.station_id,
        group_id=placement.group_id,
        latitude=data.latitude,
        longitude=data.longitude,
        capabilities=msgspec.to_builtins(data.capabilities),
        firmware=data.firmware,
        notes=nfc(data.notes),
        status="pending",
        created_at=now,
        updated_at=now,
    )


async def hardware_taken(hardware_id: str | None) -> bool:
    return hardware_id is not None and await Device.exists().where(Device.hardware_id == hardware_id)


def duplicate_hardware(hardware_id: str) -> Conflict:
    return Conflict(
        "duplicate", message_key="error.duplicate", what="device", details={"hardware_id": hardware_id}
    )


async def register(rt: Runtime, actor: Actor, data: DeviceIn) -> DeviceOut:
    placement = await place(data.area_code, data.group_id)
    grant = actor.require(Permission.DEVICE_MANAGE, [placement.area_path])
    if (data.latitude is None) != (data.longitude is None):
        raise ValidationFailed(
            [{"field": "latitude", "reason": "give both latitude and longitude, or neither"}]
        )
    row = new_device(data, placement, rt.clock.now())
    async with rt.db.transaction():
        if await hardware_taken(data.hardware_id):
            raise duplicate_hardware(str(data.hardware_id))
        await Device.insert(row)
        await audit.record(
            rt,
            actor,
            "device.register",
            target_type="device",
            target_id=str(row.id),
            grant=grant,
            details={"kind": data.kind, "area_code": data.area_code, "hardware_id": data.hardware_id},
        )
    return await device_out(await load(row.id))


def read_grant(actor: Actor, path: str) -> Grant:
    actor.require(Permission.DEVICE_READ)
    grant = actor.grant_for(Permission.DEVICE_READ, path)
    if grant is None:  # another area's device does not exist for this account
        raise NotFound("device")
    return grant


async def get(rt: Runtime, actor: Actor, device_id: uuid.UUID) -> DeviceOut:
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    return await device_out(row)


def scope_clause(actor: Actor, permission: Permission = Permission.DEVICE_READ) -> Any:
    """Devices inside any area the actor holds ``permission`` on."""
    actor.require(permission)
    clause = None
    for path in sorted(set(actor.scope_paths(permission))):
        part = Device.area_path.like(f"{path}%")
        clause = part if clause is None else clause | part
    return clause


async def list_devices(
    rt: Runtime,
    actor: Actor,
    *,
    area: str | None = None,
    kind: str | None = None,
    state: str | None = None,
    group_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> DeviceList:
    where = [scope_clause(actor)]
    if area:
        row = await Area.select(Area.path).where(Area.code == area).first()
        if row is None:
            raise NotFound("area", details={"code": area})
        where.append(Device.area_path.like(f"{row['path']}%"))
    if kind:
        where.append(Device.kind == kind)
    if state:
        where.append(Device.state == state)
    if group_id:
        where.append(Device.group_id == group_id)
    if cursor:
        where.append(Device.id > uuid.UUID(str(decode_cursor(cursor).get("id"))))
    query = Device.select()
    for clause in where:
        query = query.where(clause)
    limit = max(1, min(limit, MAX_PAGE))
    rows = await query.order_by(Device.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    versions = await current_versions([r["id"] for r in rows])
    return DeviceList(
        items=[to_out(r, versions.get(r["id"])) for r in rows],
        next_cursor=encode_cursor({"id": str(rows[-1]["id"])}) if more and rows else None,
    )
