"""Device figures for the yearly report: loudspeaker clusters, e-boards and the share online.

The devices domain (backend/devices) does not keep devices yet. Until it does, this function
reports zero counts with ``available = False`` and a note the printed report shows; the devices
issue replaces the body with counts from its own tables, keeping the signature."""

from __future__ import annotations

from backend.officials.reports.schemas import DeviceFigures
from backend.runtime import Runtime

NO_DEVICE_DATA = "Chưa có dữ liệu thiết bị"


async def device_figures(rt: Runtime, area_path: str) -> DeviceFigures:
    return DeviceFigures(
        available=False, clusters=0, eboards=0, total=0, online=0, online_share=None, note=NO_DEVICE_DATA
    )
