"""What other domains (devices, officials) use of broadcast; re-exported by the package."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from backend.broadcast.manifests import store
from backend.broadcast.tables import Station, StationGroup
from backend.lib.db import json_column
from backend.runtime import Runtime


@dataclass(frozen=True)
class GroupInfo:
    id: uuid.UUID
    station_id: uuid.UUID
    station_area_code: str
    station_area_path: str
    name: str
    area_codes: list[str]
    is_default: bool


async def get_group(rt: Runtime, group_id: uuid.UUID | str) -> GroupInfo | None:
    try:
        gid = group_id if isinstance(group_id, uuid.UUID) else uuid.UUID(str(group_id))
    except ValueError:
        return None
    group = await StationGroup.select().where(StationGroup.id == gid).first()
    if group is None:
        return None
    station = await (
        Station.select(Station.area_code, Station.area_path).where(Station.id == group["station_id"]).first()
    )
    if station is None:
        return None
    return GroupInfo(
        id=group["id"],
        station_id=group["station_id"],
        station_area_code=station["area_code"],
        station_area_path=station["area_path"],
        name=group["name"],
        area_codes=list(json_column(group["area_codes"], [])),
        is_default=bool(group["is_default"]),
    )


async def current_manifests(rt: Runtime, group_id: uuid.UUID | str) -> list[bytes]:
    """The signed envelopes (audio, e-board) a device of the group should hold now."""
    info = await get_group(rt, group_id)
    if info is None:
        return []
    return await store.current_for_group(rt, info.id)


async def active_emergencies(rt: Runtime, area_codes: list[str]) -> list[bytes]:
    """Signed emergency manifests in force for any of the areas (a device passes its path's codes)."""
    return await store.active_emergencies(rt, area_codes)
