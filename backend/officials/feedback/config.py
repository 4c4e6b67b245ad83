"""What admins edit: handling units, routing rules, holidays, per-category deadlines and answer
templates. Every change needs ``feedback.configure`` and is audited. Templates are read by
handlers too."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from backend.core.accounts.permissions import Actor, Permission
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.core.categories.tables import Category
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.officials.feedback.deadlines import DEFAULT_SLA
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
from backend.officials.feedback.tables import AnswerTemplate, FeedbackSla, HandlingUnit, Holiday, RoutingRule
from backend.runtime import Runtime

CONFIGURE = Permission.FEEDBACK_CONFIGURE


async def _record(rt: Runtime, actor: Actor, action: str, target: str, details: dict[str, Any]) -> None:
    await audit.record(
        rt,
        actor,
        f"feedback_config.{action}",
        target_type="feedback_config",
        target_id=target,
        details=details,
    )


def _bad(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": reason}])


async def _area_path(code: str) -> str:
    row = await Area.select(Area.path).where(Area.code == code).first()
    if row is None:
        raise _bad("area_code", f"unknown area code {code}")
    return row["path"]


def _unit(row: dict[str, Any]) -> UnitOut:
    return UnitOut(
        id=row["id"],
        name=row["name"],
        area_code=row["area_code"],
        supervisor=row["supervisor"],
        active=row["active"],
    )


async def list_units(rt: Runtime, actor: Actor) -> UnitList:
    if not actor.grants_with(CONFIGURE):
        actor.require(Permission.FEEDBACK_HANDLE)
    rows = await HandlingUnit.select().order_by(HandlingUnit.area_path).order_by(HandlingUnit.name)
    return UnitList(items=[_unit(r) for r in rows])


async def _check_supervisor(unit_id: uuid.UUID | None, supervisor: uuid.UUID | None) -> None:
    if supervisor is None:
        return
    seen = {unit_id}
    current: uuid.UUID | None = supervisor
    while current is not None:
        if current in seen:
            raise _bad("supervisor", "a unit cannot supervise itself, directly or through others")
        seen.add(current)
        row = await HandlingUnit.select(HandlingUnit.supervisor).where(HandlingUnit.id == current).first()
        if row is None:
            raise _bad("supervisor", "unknown handling unit")
        current = row["supervisor"]


async def save_unit(rt: Runtime, actor: Actor, data: UnitIn, unit_id: uuid.UUID | None = None) -> UnitOut:
    actor.require(CONFIGURE)
    async with rt.db.transaction():
        path = await _area_path(data.area_code)
        await _check_supervisor(unit_id, data.supervisor)
        values = {
            "name": nfc(data.name.strip()),
            "area_code": data.area_code,
            "area_path": path,
            "supervisor": data.supervisor,
            "active": data.active,
        }
        if unit_id is None:
            unit_id = uuid.uuid4()
            await HandlingUnit.insert(HandlingUnit(id=unit_id, created_at=rt.clock.now(), **values))
        else:
            updated = (
                await HandlingUnit.update(values).where(HandlingUnit.id == unit_id).returning(HandlingUnit.id)
            )
            if not updated:
                raise NotFound("resource")
        await _record(rt, actor, "unit", str(unit_id), {**values, "supervisor": str(data.supervisor or "")})
    row = await HandlingUnit.select().where(HandlingUnit.id == unit_id).first()
    return _unit(row)


async def list_rules(rt: Runtime, actor: Actor) -> RuleList:
    actor.require(CONFIGURE)
    rows = await RoutingRule.select().order_by(RoutingRule.area_path).order_by(RoutingRule.category)
    return RuleList(
        items=[
            RuleOut(id=r["id"], category=r["category"], area_code=r["area_code"], unit=r["unit"])
            for r in rows
        ]
    )


async def create_rule(rt: Runtime, actor: Actor, data: RuleIn) -> RuleOut:
    actor.require(CONFIGURE)
    async with rt.db.transaction():
        path = await _area_path(data.area_code)
        if data.category and not await Category.exists().where(Category.code == data.category):
            raise _bad("category", f"unknown category {data.category}")
        if not await HandlingUnit.exists().where(HandlingUnit.id == data.unit):
            raise _bad("unit", "unknown handling unit")
        if await RoutingRule.exists().where(
            (RoutingRule.category == data.category) & (RoutingRule.area_code == data.area_code)
        ):
            raise Conflict("rule_exists", message_key="error.duplicate", what="resource")
        rule_id = uuid.uuid4()
        await RoutingRule.insert(
            RoutingRule(
                id=rule_id,
                category=data.category,
                area_code=data.area_code,
                area_path=path,
                unit=data.unit,
                created_at=rt.clock.now(),
            )
        )
        await _record(
            rt,
            actor,
            "rule_create",
            str(rule_id),
            {"category": data.category, "area": data.area_code, "unit": str(data.unit)},
        )
    return RuleOut(id=rule_id, category=data.category, area_code=data.area_code, unit=data.unit)


async def delete_rule(rt: Runtime, actor: Actor, rule_id: uuid.UUID) -> None:
    actor.require(CONFIGURE)
    async with rt.db.transaction():
        gone = await RoutingRule.delete().where(RoutingRule.id == rule_id).returning(RoutingRule.id)
        if not gone:
            raise NotFound("resource")
        await _record(rt, actor, "rule_delete", str(rule_id), {})


async def list_holidays(rt: Runtime, actor: Actor, year: int | None = None) -> HolidayList:
    if not actor.grants_with(Permission.FEEDBACK_HANDLE):
        actor.require(CONFIGURE)
    query = Holiday.select().order_by(Holiday.day)
    if year is not None:
        query = query.where(Holiday.day.like(f"{year:04d}-%"))
    return HolidayList(items=[HolidayOut(day=r["day"], name=r["name"]) for r in await query])


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise _bad("day", "a date YYYY-MM-DD") from exc


async def put_holiday(rt: Runtime, actor: Actor, day: str, data: HolidayIn) -> HolidayOut:
    actor.require(CONFIGURE)
    day = _day(day)
    name = nfc(data.name.strip())
    async with rt.db.transaction():
        if await Holiday.exists().where(Holiday.day == day):
            await Holiday.update({Holiday.name: name}).where(Holiday.day == day)
        else:
            await Holiday.insert(Holiday(day=day, name=name))
        await _record(rt, actor, "holiday_put", day, {"name": name})
    return HolidayOut(day=day, name=name)


async def delete_holiday(rt: Runtime, actor: Actor, day: str) -> None:
    actor.require(CONFIGURE)
    day = _day(day)
    async with rt.db.transaction():
        if not await Holiday.delete().where(Holiday.day == day).returning(Holiday.day):
            raise NotFound("resource")
        await _record(rt, actor, "holiday_delete", day, {})


async def list_sla(rt: Runtime, actor: Actor) -> SlaList:
    if not actor.grants_with(Permission.FEEDBACK_HANDLE):
        actor.require(CONFIGURE)
    rows = await FeedbackSla.select().order_by(FeedbackSla.category)
    return SlaList(items=[SlaOut(**r) for r in rows])


async def put_sla(rt: Runtime, actor: Actor, category: str, data: SlaIn) -> SlaOut:
    """Applies to reports received from now on; stored deadlines are not moved."""
    actor.require(CONFIGURE)
    if category != DEFAULT_SLA and not await Category.exists().where(Category.code == category):
        raise _bad("category", f"unknown category {category}")
    values = {"ack_days": data.ack_days, "answer_days": data.answer_days, "remind_days": data.remind_days}
    async with rt.db.transaction():
        if await FeedbackSla.exists().where(FeedbackSla.category == category):
            await FeedbackSla.update(values).where(FeedbackSla.category == category)
        else:
            await FeedbackSla.insert(FeedbackSla(category=category, **values))
        await _record(rt, actor, "sla_put", category, values)
    return SlaOut(category=category, **values)


def _template(row: dict[str, Any]) -> TemplateOut:
    return TemplateOut(
        id=row["id"], title=row["title"], text=row["text"], category=row["category"], active=row["active"]
    )


async def list_templates(rt: Runtime, actor: Actor, category: str | None = None) -> TemplateList:
    if not actor.grants_with(CONFIGURE):
        actor.require(Permission.FEEDBACK_HANDLE)
    query = AnswerTemplate.select().order_by(AnswerTemplate.title)
    if category:
        query = query.where(AnswerTemplate.category.is_in([category, ""]))
    return TemplateList(items=[_template(r) for r in await query])


async def save_template(
    rt: Runtime, actor: Actor, data: TemplateIn, template_id: uuid.UUID | None = None
) -> TemplateOut:
    actor.require(CONFIGURE)
    values = {
        "title": nfc(data.title.strip()),
        "text": nfc(data.text.strip()),
        "category": data.category,
        "active": data.active,
    }
    if not values["title"] or not values["text"]:
        raise _bad("text", "must not be blank")
    async with rt.db.transaction():
        if template_id is None:
            template_id = uuid.uuid4()
            await AnswerTemplate.insert(AnswerTemplate(id=template_id, created_at=rt.clock.now(), **values))
        elif (
            not await AnswerTemplate.update(values)
            .where(AnswerTemplate.id == template_id)
            .returning(AnswerTemplate.id)
        ):
            raise NotFound("resource")
        await _record(rt, actor, "template", str(template_id), {"title": values["title"]})
    return TemplateOut(id=template_id, **values)
