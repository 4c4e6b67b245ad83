"""HTTP endpoints of the training library for staff: topics, materials and versions, publishing,
and the coverage report (JSON and CSV). Officials' phones get the library through sync."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.training import coverage, services
from backend.training.schemas import (
    CoverageOut,
    Level,
    MaterialIn,
    MaterialList,
    MaterialOut,
    MaterialStatus,
    ReasonIn,
    TopicIn,
    TopicList,
    TopicOut,
    VersionIn,
)

ID = "/materials/{material_id:uuid}"
FILE_ERRORS = errors(400, 401, 403, 404, 409, 413, 415, 422)
STEP_ERRORS = errors(400, 401, 403, 404, 409)


class TrainingController(Controller):
    path = "/api/v1/training"
    tags = ["training"]

    @get(
        "/topics",
        operation_id="listTrainingTopics",
        summary="Topics of the training library",
        responses=errors(401, 403),
    )
    async def topics(self, rt: RuntimeDep, actor: ActorDep) -> TopicList:
        return await services.list_topics(rt, actor)

    @post(
        "/topics",
        operation_id="createTrainingTopic",
        summary="Add a topic (code and Vietnamese name)",
        responses=errors(400, 401, 403, 409, 422),
    )
    async def create_topic(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[TopicIn]) -> TopicOut:
        return await services.create_topic(rt, actor, data)

    @get(
        "/materials",
        operation_id="listTrainingMaterials",
        summary="Materials of the staff member's areas and above, filtered by topic, level and status",
        responses=errors(400, 401, 403),
    )
    async def materials(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        topic: FromQuery[str | None] = None,
        level: FromQuery[Level | None] = None,
        status: FromQuery[MaterialStatus | None] = None,
    ) -> MaterialList:
        return await services.list_materials(rt, actor, topic, level, status)

    @post(
        "/materials",
        operation_id="createTrainingMaterial",
        summary="A new material with its first version (draft); its file is first uploaded to the blob store",
        responses=FILE_ERRORS,
    )
    async def create_material(
        self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[MaterialIn]
    ) -> MaterialOut:
        return await services.create_material(rt, actor, data)

    @get(
        ID,
        operation_id="getTrainingMaterial",
        summary="One material with every version",
        responses=errors(401, 403, 404),
    )
    async def material(
        self, rt: RuntimeDep, actor: ActorDep, material_id: FromPath[uuid.UUID]
    ) -> MaterialOut:
        return await services.get_material(rt, actor, material_id)

    @post(
        ID + "/versions",
        operation_id="createTrainingVersion",
        summary="A new version of the material's file (draft, replacing an unpublished draft)",
        responses=FILE_ERRORS,
    )
    async def new_version(
        self, rt: RuntimeDep, actor: ActorDep, material_id: FromPath[uuid.UUID], data: JSONBody[VersionIn]
    ) -> MaterialOut:
        return await services.new_version(rt, actor, material_id, data)

    @post(
        ID + "/publish",
        operation_id="publishTrainingMaterial",
        summary="Publish the draft version (superseding the current one), or a withdrawn material again",
        responses=STEP_ERRORS,
        status_code=200,
    )
    async def publish(self, rt: RuntimeDep, actor: ActorDep, material_id: FromPath[uuid.UUID]) -> MaterialOut:
        return await services.publish(rt, actor, material_id)

    @post(
        ID + "/withdraw",
        operation_id="withdrawTrainingMaterial",
        summary="Take a material off officials' phones (history and completions are kept)",
        responses={**STEP_ERRORS, **errors(422)},
        status_code=200,
    )
    async def withdraw(
        self, rt: RuntimeDep, actor: ActorDep, material_id: FromPath[uuid.UUID], data: JSONBody[ReasonIn]
    ) -> MaterialOut:
        return await services.withdraw(rt, actor, material_id, data.reason)

    @get(
        "/coverage",
        operation_id="getTrainingCoverage",
        summary="Officials trained per commune and for the subtree: each required material and all of them",
        responses=errors(401, 403, 404),
    )
    async def coverage_report(
        self, rt: RuntimeDep, actor: ActorDep, area: FromQuery[str | None] = None
    ) -> CoverageOut:
        return await coverage.coverage(rt, actor, area)

    @get(
        "/coverage.csv",
        operation_id="getTrainingCoverageCsv",
        summary="The coverage report as CSV: one line per area and material (material * = all required)",
        responses=errors(401, 403, 404),
        media_type="text/csv; charset=utf-8",
    )
    async def coverage_csv(
        self, rt: RuntimeDep, actor: ActorDep, area: FromQuery[str | None] = None
    ) -> Response[str]:
        report = await coverage.coverage(rt, actor, area, fmt="csv")
        return Response(
            coverage.to_csv(report),
            headers={"Content-Disposition": f'attachment; filename="boi-duong-{report.area_code}.csv"'},
        )
