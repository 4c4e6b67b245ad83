"""Keep every station's compiled week ahead of time: a periodic job asks the workers to rebuild
stations whose compiled horizon ends within six days (or that were never compiled)."""

from __future__ import annotations

from datetime import timedelta

from backend.broadcast.stations.services import station_changed
from backend.broadcast.tables import CompiledPlan, Station
from backend.runtime import Runtime

REFRESH_BEFORE = timedelta(days=6)


async def refresh_due(rt: Runtime) -> int:
    limit = rt.clock.now() + REFRESH_BEFORE
    stations = [r["id"] for r in await Station.select(Station.id)]
    fresh = {
        r["station_id"]
        for r in await CompiledPlan.select(CompiledPlan.station_id).where(CompiledPlan.horizon_end > limit)
    }
    due = [s for s in stations if s not in fresh]
    if due:
        async with rt.db.transaction():
            for station_id in due:
                await station_changed(rt, station_id, "horizon")
    return len(due)
