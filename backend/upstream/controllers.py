"""HTTP endpoints of the upstream link: the exchange (what a downstream calls on its upstream), the
registry of downstream systems, and the downstream staff's view of upstream notices."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.core.notices.schemas import NoticeOut
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.upstream import exchange, follow, registry, services
from backend.upstream.schemas import (
    AdoptIn,
    DownstreamIn,
    DownstreamOut,
    DownstreamReportList,
    ExchangePage,
    ReportReceipt,
    SignedEnvelope,
    UpstreamNoticeList,
    UpstreamStatus,
)

Code = Annotated[
    str, QueryParameter(min_length=1, max_length=32, description="Province code of the downstream")
]


class FederationController(Controller):
    """What a downstream instance calls on this one. Documented in openapi/federation.md."""

    path = "/federation/v1"
    tags = ["federation"]
    security = [{}]

    @get(
        "/notices",
        operation_id="federationNotices",
        summary="Published notices for a province since a cursor (upstream ids, versions, current state)",
        responses=errors(400, 404),
    )
    async def notices(
        self,
        rt: RuntimeDep,
        province: Code,
        since: Annotated[
            str, QueryParameter(max_length=20, description="cursor from the last page; 0 at first")
        ] = "0",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
    ) -> ExchangePage:
        return await exchange.notices_for(rt, province, since, limit)

    @post(
        "/reports",
        operation_id="federationReport",
        summary="A downstream's signed statistics report for one period (idempotent by province and period)",
        status_code=200,
        responses=errors(400, 403, 422),
    )
    async def report(self, request: Request, rt: RuntimeDep, data: JSONBody[SignedEnvelope]) -> ReportReceipt:
        return await registry.receive_report(rt, await request.body())


class DownstreamController(Controller):
    path = "/api/v1/federation/downstreams"
    tags = ["federation"]

    @put(
        "/{province_code:str}",
        operation_id="registerDownstream",
        summary="Register a downstream system with its province public keys (admins)",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def register(
        self, rt: RuntimeDep, actor: ActorDep, province_code: FromPath[str], data: JSONBody[DownstreamIn]
    ) -> DownstreamOut:
        return await registry.register(rt, actor, province_code, data)

    @get(
        "/{province_code:str}/reports",
        operation_id="listDownstreamReports",
        summary="Statistics reports a downstream sent, newest period first",
        responses=errors(401, 403, 404),
    )
    async def reports(
        self, rt: RuntimeDep, actor: ActorDep, province_code: FromPath[str]
    ) -> DownstreamReportList:
        return await registry.reports(rt, actor, province_code)


class UpstreamController(Controller):
    path = "/api/v1/upstream"
    tags = ["federation"]

    @get(
        "/notices",
        operation_id="listUpstreamNotices",
        summary="Notices pulled from the upstream, newest first, with their adoption here",
        responses=errors(400, 401, 403, 404),
    )
    async def notices(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        adoption: FromQuery[Literal["none", "adopting", "adopted", "auto", "followed"] | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> UpstreamNoticeList:
        return await follow.list_notices(rt, actor, adoption, limit)

    @post(
        "/notices/{upstream_id:uuid}/adopt",
        operation_id="adoptUpstreamNotice",
        summary="Adopt an upstream notice as a local notice (submitted, or published at once)",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def adopt(
        self, rt: RuntimeDep, actor: ActorDep, upstream_id: FromPath[uuid.UUID], data: JSONBody[AdoptIn]
    ) -> NoticeOut:
        return await follow.adopt(rt, actor, upstream_id, data)

    @get(
        "/status",
        operation_id="getUpstreamStatus",
        summary="The upstream link: cursor, last success or error, reports pending and accepted",
        responses=errors(401, 403, 404, 409),
    )
    async def status(self, rt: RuntimeDep, actor: ActorDep) -> UpstreamStatus:
        return await services.status(rt, actor)

    @post(
        "/sync",
        operation_id="syncUpstream",
        summary="Pull upstream notices and send pending reports now",
        status_code=200,
        responses=errors(401, 403, 404, 409),
    )
    async def sync(self, rt: RuntimeDep, actor: ActorDep) -> UpstreamStatus:
        return await services.sync_now(rt, actor)
