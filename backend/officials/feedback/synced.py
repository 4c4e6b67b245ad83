"""Feedback on officials' phones: every report of the areas where they handle feedback.

Officials take feedback on paper (at a meeting, at the commune office) and enter it on their phone
offline: a create stores it exactly like a citizen's report (routing, deadlines, duplicate hint),
with ``source = paper`` and the contact they wrote down (kept for those allowed to see identities,
never sent back to phones). They may correct the text and address of such an entry while nobody has
started handling it (the phone's later edit wins; the replaced text is kept in the conflict), and move
a report through the first handling steps (accepted, in progress, resolved) — through the same
workflow and audit as the web console; if the server's status changed meanwhile, the server's stays.
Reports are never deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from backend.citizen.feedback import services as feedback
from backend.citizen.feedback.schemas import MAX_TEXT
from backend.citizen.feedback.tables import Feedback
from backend.core.accounts.permissions import Actor, Permission, within
from backend.core.areas.services import ROOT_PATH
from backend.core.audit import services as audit
from backend.core.categories import services as categories
from backend.core.changes.services import record_change
from backend.lib.errors import Conflict, Forbidden, ValidationFailed
from backend.lib.i18n import fold
from backend.officials.feedback import flows, routing
from backend.officials.feedback.tables import FeedbackHandling
from backend.runtime import Runtime
from backend.sync import Context, Field, Registry, Row, SyncedTable, like_prefix, wire_value

TABLE = "feedback"
EDITABLE_STATES = ("received", "accepted")
STATUS_ACTIONS = {"accepted": "accept", "in_progress": "start", "resolved": "resolve"}

FIELDS = {
    "category": Field("server_wins", create_only=True),
    "area": Field("server_wins", create_only=True),
    "anonymous": Field("server_wins", create_only=True),
    "name": Field("server_wins", create_only=True),
    "phone": Field("server_wins", create_only=True),
    "text": Field("client_wins"),
    "address": Field("client_wins"),
    "status": Field("server_wins"),
}


class FeedbackFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    category: str | None = None
    area: str | None = None
    anonymous: bool | None = None
    name: str | None = None
    phone: str | None = None
    text: str | None = None
    address: str | None = None
    status: Literal["accepted", "in_progress", "resolved"] | None = None


def to_wire(row: dict[str, Any], handling: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "token": row["token"],
        "source": row["source"],
        "category": row["category"],
        "status": row["status"],
        "area": row["area_code"],
        "address": row["address"],
        "text": row["text"],
        "anonymous": row["anonymous"],
        "lat": row["lat"],
        "long": row["long"],
        "rating": row["rating"],
        "created_at": wire_value(row["created_at"]),
        "answered_at": wire_value(row["answered_at"]),
        "due": wire_value(handling["answer_due"]) if handling else None,
        "assignee": wire_value(handling["assignee"]) if handling else None,
    }


async def load(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    wanted = []
    for i in ids:
        try:
            wanted.append(uuid.UUID(i))
        except ValueError:
            continue
    out: dict[str, Row] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        records = await Feedback.select().where(Feedback.id.is_in(chunk))
        if not records:
            continue
        handling = {
            h["feedback"]: h
            for h in await FeedbackHandling.select(
                FeedbackHandling.feedback, FeedbackHandling.answer_due, FeedbackHandling.assignee
            ).where(FeedbackHandling.feedback.is_in(chunk))
        }
        for r in records:
            out[str(r["id"])] = Row(
                id=str(r["id"]),
                data=to_wire(r, handling.get(r["id"])),
                paths=(routing.effective_path(rt, r),),
                raw=r,
            )
    return out


async def ids_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    scopes = actor.scope_paths(Permission.FEEDBACK_HANDLE)
    if not scopes:
        return []
    condition = None
    for scope in scopes:
        clause = Feedback.area_path.like(like_prefix(scope))
        condition = clause if condition is None else condition | clause
    province = f"{ROOT_PATH}{rt.settings.province_code}/"
    if any(within(province, s) for s in scopes):
        condition = condition | Feedback.area_path.is_null()
    return sorted(str(r["id"]) for r in await Feedback.select(Feedback.id).where(condition))


def _typed(values: dict[str, Any]) -> FeedbackFields:
    try:
        return msgspec.convert(values, FeedbackFields)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([{"field": "f", "reason": str(exc)}]) from exc


async def create(ctx: Context, row_id: str, values: dict[str, Any]) -> None:
    typed = _typed(values)
    missing = [f for f in ("category", "text", "area") if not values.get(f)]
    if missing:
        raise ValidationFailed([{"field": f"f.{f}", "reason": "required"} for f in missing])
    if len(values["text"]) > MAX_TEXT:
        raise ValidationFailed([{"field": "f.text", "reason": f"at most {MAX_TEXT} characters"}])
    await categories.require_active(ctx.rt, values["category"], field="f.category")
    location = await feedback.resolve_location(
        ctx.rt, typed.area, None, None, typed.address or "", field="f.area"
    )
    assert location.area_path is not None
    grant = ctx.actor.require(Permission.FEEDBACK_HANDLE, [location.area_path])
    contact = {k: v for k, v in (("first_name", typed.name or ""), ("phone", typed.phone or "")) if v}
    new = feedback.NewFeedback(
        category=values["category"],
        text=feedback.clean_text(values["text"], "f.text"),
        location=location,
        anonymous=True if typed.anonymous is None else typed.anonymous,
        source="paper",
        contact=contact,
        feedback_id=uuid.UUID(row_id),
    )
    role = grant.role.value if grant else ctx.actor.kind
    await feedback.create(ctx.rt, new, actor_role=role, actor_id=ctx.actor.account_id)
    await audit.record(
        ctx.rt,
        ctx.actor,
        "feedback.paper_entry",
        target_type=TABLE,
        target_id=row_id,
        grant=grant,
        details=ctx.audit_details,
    )


async def update(ctx: Context, row: Row, values: dict[str, Any]) -> None:
    record = row.raw
    typed = _typed(values)
    text_fields = {k: values[k] for k in ("text", "address") if k in values}
    if text_fields:
        grant = ctx.actor.require(Permission.FEEDBACK_HANDLE, row.paths)
        if record["source"] != "paper" or record["status"] not in EDITABLE_STATES:
            raise Forbidden(
                "not_editable",
                details={
                    "reason": "only reports taken on paper, before handling starts",
                    "status": record["status"],
                },
            )
        columns: dict[Any, Any] = {Feedback.updated_at: ctx.rt.clock.now()}
        if "text" in text_fields:
            columns[Feedback.text] = feedback.clean_text(text_fields["text"], "f.text")
        if "address" in text_fields:
            columns[Feedback.address] = (typed.address or "").strip()
        await Feedback.update(columns).where(Feedback.id == record["id"])
        merged = {
            **record,
            "text": columns.get(Feedback.text, record["text"]),
            "address": columns.get(Feedback.address, record["address"]),
        }
        await FeedbackHandling.update(
            {
                FeedbackHandling.search: fold(
                    " ".join([merged["text"], merged["address"] or "", record["token"]])
                )
            }
        ).where(FeedbackHandling.feedback == record["id"])
        await record_change(
            ctx.rt,
            table=TABLE,
            row_id=row.id,
            op="upsert",
            area_paths=row.paths,
            actor_id=ctx.actor.account_id,
        )
        await audit.record(
            ctx.rt,
            ctx.actor,
            "feedback.paper_edit",
            target_type=TABLE,
            target_id=row.id,
            grant=grant,
            details={**ctx.audit_details, "fields": sorted(text_fields)},
        )
        record = {**record, **{k: merged[k] for k in ("text", "address")}}
    if typed.status is not None:
        await flows.perform_in_transaction(
            ctx.rt, ctx.actor, record["id"], flows.Act(STATUS_ACTIONS[typed.status], text="")
        )


async def delete(ctx: Context, row: Row) -> None:
    raise Conflict("not_deletable", details={"reason": "feedback is never deleted; reject or resolve it"})


def register(registry: Registry) -> None:
    registry.add(
        SyncedTable(
            name=TABLE,
            load=load,
            ids_in_scope=ids_in_scope,
            permission=Permission.FEEDBACK_HANDLE,
            fields=FIELDS,
            schema=FeedbackFields,
            create=create,
            update=update,
            delete=delete,
            shared=True,  # scope by the grants' areas; the wire form names no official
        )
    )
