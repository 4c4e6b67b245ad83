"""HTTP endpoints of the sync protocol: the round trip, a pull-only read, integrity repair, conflicts."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.deps import ActorDep, RuntimeDep
from backend.lib.errors import BadRequest
from backend.lib.http import bearer_first, errors
from backend.lib.i18n import pick_language
from backend.runtime import Runtime
from backend.sync import answers, conflicts, integrity, services
from backend.sync.schemas import (
    ConflictList,
    ConflictOut,
    FetchIn,
    FetchOut,
    RepairIn,
    RepairOut,
    ResolveIn,
    SyncIn,
    SyncOut,
)

SYNC_ERRORS = errors(400, 401, 403, 429, 503)


def _language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


async def _run(request: Request, rt: Runtime, actor: ActorDep, data: SyncIn) -> Response[SyncOut]:
    """The checkpoint, compressed by :mod:`backend.sync.answers` (the app's compression is off for
    these routes: a shared snapshot page comes compressed already)."""
    gate = await services.gate_for(request.app.state, rt)
    async with gate.enter(data.device):
        answer = await services.round_trip(rt, rt.sync_tables, actor, data, _language(request))
    body, headers = answers.encode(answer, "gzip" in request.headers.get("accept-encoding", ""))
    return Response(body, media_type=MediaType.JSON, headers=headers)  # type: ignore[arg-type]


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]
    guards = [bearer_first]
    request_max_body_size = 16 * 1024 * 1024

    @post(
        "/",
        operation_id="syncRoundTrip",
        summary="Push pending mutations and pull one checkpoint of changes in one round trip",
        responses=SYNC_ERRORS,
        status_code=200,
        skip_compression=True,
    )
    async def round_trip(
        self, request: Request, rt: RuntimeDep, actor: ActorDep, data: JSONBody[SyncIn]
    ) -> Response[SyncOut]:
        return await _run(request, rt, actor, data)

    @get(
        "/changes",
        operation_id="syncPull",
        summary="Pull one checkpoint of changes without pushing (same answer as the round trip)",
        responses=SYNC_ERRORS,
        skip_compression=True,
    )
    async def pull_only(
        self,
        request: Request,
        rt: RuntimeDep,
        actor: ActorDep,
        device: FromQuery[str],
        protocol: FromQuery[int] = 2,
        epoch: FromQuery[str | None] = None,
        cursor: Annotated[int, QueryParameter(ge=0)] = 0,
        tag: FromQuery[str] = "",
        scope_token: Annotated[str | None, QueryParameter(name="scope")] = None,
        scan: FromQuery[str | None] = None,
        wide: FromQuery[str | None] = None,
        max_bytes: Annotated[int, QueryParameter(ge=1024)] = 65536,
        digest: FromQuery[bool] = False,
    ) -> Response[SyncOut]:
        query = {
            "protocol": protocol,
            "device": device,
            "epoch": epoch,
            "cursor": cursor,
            "tag": tag,
            "scope": scope_token,
            "scan": scan,
            "wide": wide,
            "max_bytes": max_bytes,
            "digest": digest,
        }
        try:
            data = msgspec.convert(query, SyncIn)
        except msgspec.ValidationError as exc:
            raise BadRequest("invalid_input", details={"reason": str(exc)}) from exc
        return await _run(request, rt, actor, data)

    @post(
        "/repair",
        operation_id="syncRepair",
        summary="Compare per-bucket digests of one table; answers [id, version] of the buckets that differ",
        responses=errors(400, 401, 403, 422, 503),
        status_code=200,
    )
    async def repair(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[RepairIn]) -> RepairOut:
        services.require_official(actor)
        async with services.transient_as_503():
            rows = await integrity.differing_buckets(rt, rt.sync_tables, actor, data.t, data.buckets)
        return RepairOut(t=data.t, rows=rows)

    @post(
        "/fetch",
        operation_id="syncFetch",
        summary="Rows of one table by id as they are now (or their removal), for a repair",
        responses=errors(400, 401, 403, 422, 503),
        status_code=200,
    )
    async def fetch(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[FetchIn]) -> FetchOut:
        services.require_official(actor)
        async with services.transient_as_503():
            changes = await integrity.fetch(rt, rt.sync_tables, actor, data.t, data.ids)
        return FetchOut(changes=changes)

    @get(
        "/conflicts",
        operation_id="listSyncConflicts",
        summary="Open conflicts on rows within the official's scope",
        responses=errors(401, 403),
    )
    async def list_conflicts(self, rt: RuntimeDep, actor: ActorDep) -> ConflictList:
        return await conflicts.list_open(rt, rt.sync_tables, actor)

    @post(
        "/conflicts/{conflict_id:uuid}/resolve",
        operation_id="resolveSyncConflict",
        summary="Keep the value the rule chose, or restore the value that lost (an audited edit)",
        responses=errors(400, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def resolve(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        conflict_id: FromPath[uuid.UUID],
        data: JSONBody[ResolveIn],
    ) -> ConflictOut:
        return await conflicts.resolve(rt, rt.sync_tables, actor, conflict_id, data.resolution)
