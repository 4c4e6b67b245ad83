"""HTTP endpoints for admins configuring feedback handling: units, routing rules, holidays, deadlines, templates."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.officials.feedback import config
from backend.officials.feedback.schemas import (
    HolidayIn,
    HolidayList,
    HolidayOut,
    RuleIn,
    RuleList,
    RuleOut,
    SlaIn,
    SlaList,
    SlaOut,
    TemplateIn,
    TemplateList,
    TemplateOut,
    UnitIn,
    UnitList,
    UnitOut,
)

CONF = errors(400, 401, 403, 404, 409, 422)


class FeedbackConfigController(Controller):
    path = "/api/v1/staff/feedback-config"
    tags = ["feedback handling"]

    @get("/units", operation_id="listHandlingUnits", summary="Handling units", responses=errors(401, 403))
    async def units(self, rt: RuntimeDep, actor: ActorDep) -> UnitList:
        return await config.list_units(rt, actor)

    @post("/units", operation_id="createHandlingUnit", summary="Add a handling unit", responses=CONF)
    async def create_unit(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[UnitIn]) -> UnitOut:
        return await config.save_unit(rt, actor, data)

    @put(
        "/units/{unit_id:uuid}",
        operation_id="updateHandlingUnit",
        summary="Change a handling unit",
        responses=CONF,
    )
    async def update_unit(
        self, rt: RuntimeDep, actor: ActorDep, unit_id: FromPath[uuid.UUID], data: JSONBody[UnitIn]
    ) -> UnitOut:
        return await config.save_unit(rt, actor, data, unit_id)

    @get("/rules", operation_id="listRoutingRules", summary="Routing rules", responses=errors(401, 403))
    async def rules(self, rt: RuntimeDep, actor: ActorDep) -> RuleList:
        return await config.list_rules(rt, actor)

    @post("/rules", operation_id="createRoutingRule", summary="Add a routing rule", responses=CONF)
    async def create_rule(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[RuleIn]) -> RuleOut:
        return await config.create_rule(rt, actor, data)

    @delete(
        "/rules/{rule_id:uuid}",
        operation_id="deleteRoutingRule",
        summary="Remove a routing rule",
        responses=CONF,
    )
    async def delete_rule(self, rt: RuntimeDep, actor: ActorDep, rule_id: FromPath[uuid.UUID]) -> None:
        await config.delete_rule(rt, actor, rule_id)

    @get(
        "/holidays",
        operation_id="listHolidays",
        summary="Public holidays (not working days)",
        responses=errors(401, 403),
    )
    async def holidays(
        self, rt: RuntimeDep, actor: ActorDep, year: FromQuery[int | None] = None
    ) -> HolidayList:
        return await config.list_holidays(rt, actor, year)

    @put("/holidays/{day:str}", operation_id="putHoliday", summary="Add or rename a holiday", responses=CONF)
    async def put_holiday(
        self, rt: RuntimeDep, actor: ActorDep, day: FromPath[str], data: JSONBody[HolidayIn]
    ) -> HolidayOut:
        return await config.put_holiday(rt, actor, day, data)

    @delete("/holidays/{day:str}", operation_id="deleteHoliday", summary="Remove a holiday", responses=CONF)
    async def delete_holiday(self, rt: RuntimeDep, actor: ActorDep, day: FromPath[str]) -> None:
        await config.delete_holiday(rt, actor, day)

    @get(
        "/sla",
        operation_id="listFeedbackSla",
        summary="Handling times per category (working days)",
        responses=errors(401, 403),
    )
    async def sla(self, rt: RuntimeDep, actor: ActorDep) -> SlaList:
        return await config.list_sla(rt, actor)

    @put(
        "/sla/{category:str}",
        operation_id="putFeedbackSla",
        summary="Set a category's handling times (* = default)",
        responses=CONF,
    )
    async def put_sla(
        self, rt: RuntimeDep, actor: ActorDep, category: FromPath[str], data: JSONBody[SlaIn]
    ) -> SlaOut:
        return await config.put_sla(rt, actor, category, data)

    @get(
        "/templates",
        operation_id="listAnswerTemplates",
        summary="Answer templates",
        responses=errors(401, 403),
    )
    async def templates(
        self, rt: RuntimeDep, actor: ActorDep, category: FromQuery[str | None] = None
    ) -> TemplateList:
        return await config.list_templates(rt, actor, category)

    @post("/templates", operation_id="createAnswerTemplate", summary="Add an answer template", responses=CONF)
    async def create_template(
        self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[TemplateIn]
    ) -> TemplateOut:
        return await config.save_template(rt, actor, data)

    @put(
        "/templates/{template_id:uuid}",
        operation_id="updateAnswerTemplate",
        summary="Change an answer template",
        responses=CONF,
    )
    async def update_template(
        self, rt: RuntimeDep, actor: ActorDep, template_id: FromPath[uuid.UUID], data: JSONBody[TemplateIn]
    ) -> TemplateOut:
        return await config.save_template(rt, actor, data, template_id)
