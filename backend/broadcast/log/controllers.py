"""HTTP endpoints of the broadcast log: manual entries and planned versus played."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.broadcast.log import services
from backend.broadcast.log.schemas import LogOut, ManualEntryIn, ManualEntryOut
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class BroadcastLogController(Controller):
    path = "/api/v1/broadcast/stations/{station_id:uuid}/log"
    tags = ["broadcast"]

    @post(
        "/",
        operation_id="addBroadcastLogEntry",
        summary="An official's manual log entry (idempotent by client_id)",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def add(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[ManualEntryIn]
    ) -> ManualEntryOut:
        return await services.record_manual(rt, actor, station_id, data)

    @get(
        "/",
        operation_id="getBroadcastLog",
        summary="Planned versus played per session and cluster between two moments (default: the last 7 days)",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def log(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        station_id: FromPath[uuid.UUID],
        start: FromQuery[datetime | None] = None,
        end: FromQuery[datetime | None] = None,
    ) -> LogOut:
        now = rt.clock.now()
        end = end or now
        return await services.station_log(rt, actor, station_id, start or end - timedelta(days=7), end)
