"""The devices dashboard (counts by state, kind and commune; open alarms by severity) and a
map-ready GeoJSON FeatureCollection of the devices the account may watch."""

from __future__ import annotations

from collections import Counter
from typing import Any

from backend.core.accounts.permissions import Actor
from backend.core.areas.tables import Area
from backend.devices.health.schemas import CountBy, Dashboard
from backend.devices.services import scope_clause
from backend.devices.tables import Device, DeviceAlarm
from backend.lib.errors import NotFound
from backend.runtime import Runtime

SEVERITY_ORDER = ("critical", "major", "minor", "warning")


async def _devices(actor: Actor, area: str | None) -> list[dict[str, Any]]:
    query = Device.select(
        Device.id,
        Device.name,
        Device.kind,
        Device.state,
        Device.status,
        Device.area_code,
        Device.area_path,
        Device.latitude,
        Device.longitude,
        Device.last_activity_at,
    ).where(scope_clause(actor) & (Device.status != "retired"))
    if area:
        row = await Area.select(Area.path).where(Area.code == area).first()
        if row is None:
            raise NotFound("area", details={"code": area})
        query = query.where(Device.area_path.like(f"{row['path']}%"))
    return await query


async def _open_alarms(device_ids: list[Any]) -> list[dict[str, Any]]:
    if not device_ids:
        return []
    return await DeviceAlarm.select(DeviceAlarm.device_id, DeviceAlarm.severity, DeviceAlarm.type).where(
        DeviceAlarm.device_id.is_in(device_ids) & DeviceAlarm.open_key.is_not_null()
    )


def _counts(counter: Counter[str]) -> list[CountBy]:
    return [CountBy(key=k, count=v) for k, v in sorted(counter.items())]


async def dashboard(rt: Runtime, actor: Actor, area: str | None = None) -> Dashboard:
    devices = await _devices(actor, area)
    codes = sorted({c for d in devices for c in d["area_path"].split("/") if c})
    communes = (
        {
            a["code"]
            for a in await Area.select(Area.code).where(Area.code.is_in(codes) & (Area.level == "commune"))
        }
        if codes
        else set()
    )

    def commune_of(path: str) -> str:
        return next((c for c in reversed(path.split("/")) if c in communes), "")

    alarms = await _open_alarms([d["id"] for d in devices])
    return Dashboard(
        total=len(devices),
        by_state=_counts(Counter(d["state"] for d in devices)),
        by_kind=_counts(Counter(d["kind"] for d in devices)),
        by_area=_counts(Counter(commune_of(d["area_path"]) or d["area_code"] for d in devices)),
        open_alarms=_counts(Counter(a["severity"] for a in alarms)),
    )


async def geojson(rt: Runtime, actor: Actor, area: str | None = None) -> dict[str, Any]:
    devices = await _devices(actor, area)
    worst: dict[Any, str] = {}
    for alarm in await _open_alarms([d["id"] for d in devices]):
        current = worst.get(alarm["device_id"])
        if current is None or SEVERITY_ORDER.index(alarm["severity"]) < SEVERITY_ORDER.index(current):
            worst[alarm["device_id"]] = alarm["severity"]
    features = [
        {
            "type": "Feature",
            "id": str(d["id"]),
            # GeoJSON (RFC 7946) puts longitude first.
            "geometry": {"type": "Point", "coordinates": [d["longitude"], d["latitude"]]},
            "properties": {
                "name": d["name"],
                "kind": d["kind"],
                "state": d["state"],
                "area_code": d["area_code"],
                "alarm": worst.get(d["id"]),
                "last_activity_at": d["last_activity_at"].isoformat() if d["last_activity_at"] else None,
            },
        }
        for d in devices
        if d["latitude"] is not None and d["longitude"] is not None
    ]
    return {"type": "FeatureCollection", "features": features}
