"""HTTP endpoint for reading the audit log (admins only; there is no write endpoint)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from backend.core.audit import services
from backend.core.audit.schemas import AuditFilter, AuditPage
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get(
        "/",
        operation_id="listAuditEntries",
        summary="Read the audit log, newest first",
        responses=errors(400, 401, 403),
    )
    async def list_entries(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        action: FromQuery[str | None] = None,
        actor_id: FromQuery[uuid.UUID | None] = None,
        target_type: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AuditPage:
        flt = AuditFilter(
            action=action,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
        return await services.list_entries(rt, actor, flt)
