"""What the console's pages need around the feedback and report services: form fields turned into
the same input structs the REST API takes, the actions a page may offer (read from the workflow's
own rules), and names for ids. No handling rule lives here; every change goes through
``backend.officials.feedback`` exactly as the REST API's does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec

from backend.citizen.feedback.tables import Feedback
from backend.core.accounts.permissions import ROLE_PERMISSIONS, Actor, Permission
from backend.core.accounts.tables import RoleGrant
from backend.core.areas.tables import Area
from backend.core.categories.tables import Category
from backend.lib.errors import ValidationFailed
from backend.officials.console.texts import t
from backend.officials.feedback import actions, config, flows, services, timing
from backend.officials.feedback.schemas import (
    AnswerIn,
    AssignIn,
    MergeIn,
    NoticeFromAnswerIn,
    QueueFilter,
    ReasonIn,
    RouteIn,
    StaffFeedbackOut,
    TextIn,
)
from backend.officials.reports import render
from backend.officials.reports.schemas import DashboardOut
from backend.officials.reports.services import vn_midnight
from backend.runtime import Runtime

HANDLE = Permission.FEEDBACK_HANDLE
HANDLER_ROLES = [r.value for r, perms in ROLE_PERMISSIONS.items() if HANDLE in perms]
QUEUE_FIELDS = ("state", "group", "category", "area", "overdue", "assignee", "triage", "q", "sort")
# The order in which an item page offers the workflow's actions.
ACTIONS = (
    "accept",
    "assign",
    "route",
    "start",
    "request_info",
    "answer",
    "note",
    "resolve",
    "merge",
    "forward",
    "reject",
    "reopen",
)


def _invalid(exc: msgspec.ValidationError) -> ValidationFailed:
    message = str(exc)
    where = message.rsplit("at `$.", 1)
    name = where[1].rstrip("`").split("[")[0].split(".")[0] if len(where) == 2 else ""
    return ValidationFailed([{"field": name, "reason": message}])


def convert(values: Mapping[str, Any], kind: type[Any]) -> Any:
    """Form or query text into an API input struct, with the API's own limits and error shape."""
    try:
        return msgspec.convert(dict(values), kind, strict=False)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from exc


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed([{"field": name, "reason": "a date YYYY-MM-DD"}]) from exc


def queue_filter(params: Mapping[str, str], limit: int = 50) -> QueueFilter:
    """The queue page's query: the API's filter, with calendar days (Vietnam time) for the period."""
    raw: dict[str, Any] = {k: params[k].strip() for k in QUEUE_FIELDS if params.get(k, "").strip()}
    if params.get("cursor"):
        raw["cursor"] = params["cursor"]
    if params.get("since"):
        raw["since"] = vn_midnight(_day(params["since"], "since"))
    if params.get("until"):
        raw["until"] = vn_midnight(_day(params["until"], "until") + timedelta(days=1))
    raw["limit"] = limit
    return convert(raw, QueueFilter)


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str


async def handlers(actor: Actor, path: str | None = None) -> list[Person]:
    """Active staff who may handle feedback: at ``path`` (an item), or anywhere in the actor's areas."""
    rows = await RoleGrant.select(
        RoleGrant.account,
        RoleGrant.area.path.as_alias("path"),
        RoleGrant.account.full_name.as_alias("full_name"),
        RoleGrant.account.username.as_alias("username"),
        RoleGrant.account.active.as_alias("active"),
    ).where(RoleGrant.role.is_in(HANDLER_ROLES))
    scopes = actor.scope_paths(HANDLE)
    people: dict[uuid.UUID, str] = {}
    for r in rows:
        if not r["active"]:
            continue
        if path is not None:
            fits = path.startswith(r["path"])
        else:
            fits = any(r["path"].startswith(s) or s.startswith(r["path"]) for s in scopes)
        if fits:
            people[r["account"]] = r["full_name"] or r["username"] or str(r["account"])
    return sorted((Person(id=k, name=v) for k, v in people.items()), key=lambda p: p.name)


async def categories(language: str) -> dict[str, str]:
    rows = await Category.select(Category.code, Category.name_vi, Category.name_en).order_by(
        Category.position
    )
    return {r["code"]: (r["name_en"] if language == "en" and r["name_en"] else r["name_vi"]) for r in rows}


async def area_names(codes: set[str | None]) -> dict[str, str]:
    wanted = [c for c in codes if c]
    if not wanted:
        return {}
    rows = await Area.select(Area.code, Area.name).where(Area.code.is_in(wanted))
    return {r["code"]: r["name"] for r in rows}


def path_codes(path: str) -> list[str]:
    return [c for c in path.strip("/").split("/") if c]


def offered(actor: Actor, item: StaffFeedbackOut) -> list[str]:
    """The workflow's actions this actor may take on this item now: its state is one the action
    moves from, and the actor holds the action's permission over the item's area."""
    return [
        name
        for name in ACTIONS
        if item.status in flows.STEPS[name].moves
        and actor.grant_for(flows.STEPS[name].permission, item.path) is not None
    ]


def may_draft_notice(actor: Actor, item: StaffFeedbackOut) -> bool:
    return actor.grant_for(Permission.NOTICE_CREATE, item.path) is not None and any(
        e.kind == "answer" for e in item.history
    )


@dataclass
class ItemPage:
    item: StaffFeedbackOut
    actions: list[str]
    notice: bool
    paused: bool
    handlers: list[Person] = field(default_factory=list)
    units: list[Any] = field(default_factory=list)
    templates: list[Any] = field(default_factory=list)
    people: dict[Any, str] = field(default_factory=dict)
    areas: list[str] = field(default_factory=list)
    tokens: dict[Any, str] = field(default_factory=dict)


async def item_page(rt: Runtime, actor: Actor, feedback_id: uuid.UUID) -> ItemPage:
    item = await services.get(rt, actor, feedback_id)
    h = item.handling
    staff_ids = {e.actor_id for e in item.history if e.actor_role not in ("citizen", "")}
    linked = {h.duplicate_of, h.possible_duplicate, *item.duplicates}
    token_rows = (
        await Feedback.select(Feedback.id, Feedback.token).where(
            Feedback.id.is_in([i for i in linked if i is not None])
        )
        if any(linked)
        else []
    )
    allowed = offered(actor, item)
    return ItemPage(
        item=item,
        actions=allowed,
        notice=may_draft_notice(actor, item),
        paused=item.status in timing.PAUSED_STATES,
        handlers=await handlers(actor, item.path) if "assign" in allowed else [],
        units=[u for u in (await config.list_units(rt, actor)).items if u.active]
        if "route" in allowed
        else [],
        templates=(
            [t for t in (await config.list_templates(rt, actor, item.category)).items if t.active]
            if "answer" in allowed
            else []
        ),
        people=await services.account_names(staff_ids | {h.assignee}),
        areas=_trail(item.path, await area_names(set(path_codes(item.path)))),
        tokens={r["id"]: r["token"] for r in token_rows},
    )


def _trail(path: str, names: Mapping[str, str]) -> list[str]:
    return [names[c] for c in path_codes(path) if c in names]


async def _original(value: str) -> uuid.UUID:
    """A report named by its id or by the code citizens and staff see."""
    value = value.strip()
    try:
        return uuid.UUID(value)
    except ValueError:
        row = await Feedback.select(Feedback.id).where(Feedback.token == value).first()
        if row is None:
            raise ValidationFailed([{"field": "original", "reason": "unknown feedback code"}]) from None
        return row["id"]


async def act(
    rt: Runtime, actor: Actor, feedback_id: uuid.UUID, action: str, form: Mapping[str, str]
) -> uuid.UUID | None:
    """One action from an item page's form, through the same service calls as the REST API.
    Returns the draft notice's id for ``notice``."""
    fields = {k: v for k, v in form.items() if k != "csrf"}
    reason = convert({"reason": fields.get("reason", "")}, ReasonIn).reason
    if action == "answer":
        if not fields.get("template"):
            fields.pop("template", None)
        await actions.answer(rt, actor, feedback_id, convert(fields, AnswerIn))
    elif action == "assign":
        data = convert({"ids": [str(feedback_id)], **fields}, AssignIn)
        await actions.assign_many(rt, actor, data)
    elif action == "notice":
        if not fields.get("area_code"):
            fields.pop("area_code", None)
        return (
            await actions.notice_from_answer(rt, actor, feedback_id, convert(fields, NoticeFromAnswerIn))
        ).notice_id
    elif action == "route":
        data = convert(fields, RouteIn)
        await flows.perform(rt, actor, feedback_id, flows.Act("route", unit=data.unit, reason=reason))
    elif action == "merge":
        original = await _original(fields.get("original", ""))
        data = convert({"original": str(original), "reason": reason}, MergeIn)
        await flows.perform(rt, actor, feedback_id, flows.Act("merge", original=data.original, reason=reason))
    elif action in ("request_info", "note"):
        data = convert(fields, TextIn)
        await flows.perform(rt, actor, feedback_id, flows.Act(action, text=data.text, reason=reason))
    elif action == "resolve":
        await flows.perform(rt, actor, feedback_id, flows.Act("resolve", text=reason))
    elif action in ("accept", "start", "forward", "reject", "reopen"):
        await flows.perform(rt, actor, feedback_id, flows.Act(action, reason=reason))
    else:
        raise ValidationFailed([{"field": "action", "reason": f"unknown action {action}"}])
    return None


async def bulk_assign(rt: Runtime, actor: Actor, ids: list[str], assignee: str) -> int:
    data = convert({"ids": ids, "assignee": assignee}, AssignIn)
    return len((await actions.assign_many(rt, actor, data)).assigned)


def dashboard_charts(out: DashboardOut, category_names: Mapping[str, str], language: str) -> list[str]:
    """Inline SVG bar charts (no script, nothing fetched) of a dashboard's figures."""
    fb = out.feedback
    return [
        render.bar_chart(t("dash.by_month", language), [(m.month, m.received) for m in fb.monthly]),
        render.bar_chart(t("dash.answered_by_month", language), [(m.month, m.answered) for m in fb.monthly]),
        render.bar_chart(
            t("dash.by_category", language),
            [(category_names.get(c.category, c.category), c.received) for c in fb.by_category],
        ),
    ]


def on_time_share(out: DashboardOut) -> float | None:
    fb = out.feedback
    return fb.answered_on_time / fb.answered if fb.answered else None
