"""Staff reading of manifests."""

from __future__ import annotations

import base64
import uuid

import msgspec

from backend.broadcast.exports import get_group
from backend.broadcast.manifests import store
from backend.broadcast.manifests.schemas import ManifestList, ManifestView
from backend.broadcast.stations.services import read_grant
from backend.core.accounts.permissions import Actor
from backend.core.areas.tables import Area
from backend.lib.errors import NotFound
from backend.runtime import Runtime


def view(envelope: bytes) -> ManifestView:
    outer = msgspec.json.decode(envelope)
    raw = base64.urlsafe_b64decode(outer["payload"] + "=" * (-len(outer["payload"]) % 4))
    return ManifestView(envelope=outer, payload=msgspec.json.decode(raw))


async def area_codes_on_path(path: str) -> list[str]:
    """Every area code from the nation down to ``path`` (what a device there subscribes to)."""
    return [c for c in path.strip("/").split("/") if c]


async def group_manifests(rt: Runtime, actor: Actor, group_id: uuid.UUID) -> ManifestList:
    info = await get_group(rt, group_id)
    if info is None:
        raise NotFound("station_group", details={"id": str(group_id)})
    read_grant(actor, info.station_area_path)
    codes = set(await area_codes_on_path(info.station_area_path)) | set(info.area_codes)
    rows = await Area.select(Area.path).where(Area.code.is_in(sorted(info.area_codes)))
    for r in rows:
        codes |= set(await area_codes_on_path(r["path"]))
    return ManifestList(
        items=[view(e) for e in await store.current_for_group(rt, info.id)],
        emergencies=[view(e) for e in await store.active_emergencies(rt, sorted(codes))],
    )
