"""HTTP endpoints for the administrative tree. Reading is public: citizens pick areas to follow."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from backend.core.areas import services
from backend.core.areas.schemas import AreaList, AreaOut, ImportResult
from backend.deps import ActorDep, RuntimeDep
from backend.lib.errors import BadRequest
from backend.lib.http import errors


class AreaController(Controller):
    path = "/api/v1/areas"
    tags = ["areas"]

    @get("/", operation_id="listAreas", summary="Search and list areas", responses=errors(400, 404))
    async def list_areas(
        self,
        rt: RuntimeDep,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="Name, diacritics optional")
        ] = None,
        parent: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        within: Annotated[
            str | None, QueryParameter(description="Only areas inside this area's subtree")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AreaList:
        return await services.search(rt, q=q, parent=parent, level=level, within=within, limit=limit)

    @get("/{code:str}", operation_id="getArea", summary="Get one area", responses=errors(404))
    async def get_area(self, rt: RuntimeDep, code: FromPath[str]) -> AreaOut:
        return services.to_schema(await services.get(rt, code))

    @get(
        "/{code:str}/children",
        operation_id="listAreaChildren",
        summary="Direct children of an area",
        responses=errors(404),
    )
    async def children(self, rt: RuntimeDep, code: FromPath[str]) -> AreaList:
        return await services.children(rt, code)

    @get(
        "/{code:str}/ancestors",
        operation_id="listAreaAncestors",
        summary="Ancestors of an area, root first",
        responses=errors(404),
    )
    async def ancestors(self, rt: RuntimeDep, code: FromPath[str]) -> AreaList:
        return await services.ancestors(rt, code)

    @post(
        "/import",
        operation_id="importAreas",
        summary="Import areas from CSV (code,name,parent_code,level)",
        responses=errors(400, 401, 403, 422),
        status_code=200,
    )
    async def import_csv(self, request: Request, rt: RuntimeDep, actor: ActorDep) -> ImportResult:
        """The request body is UTF-8 CSV (``Content-Type: text/csv``) with a header row."""
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "bad_encoding", details={"field": "body", "reason": "CSV must be UTF-8"}
            ) from exc
        return await services.import_file(rt, actor, text)
