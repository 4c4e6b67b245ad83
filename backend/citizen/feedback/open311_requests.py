"""Open311 service requests: create one from a form, list them with GeoReport's filters, read one,
look one up by token. Output never names the reporter (see ``open311``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.citizen.feedback import services
from backend.citizen.feedback.open311 import (
    ATTRIBUTE_CODES,
    CONTACT_FIELDS,
    MAX_RANGE,
    MAX_ROWS,
    VN_TZ,
    Open311Error,
    bad,
    fmt_time,
)
from backend.citizen.feedback.schemas import CLOSED_STATES, MAX_TEXT, OPEN_STATES
from backend.citizen.feedback.tables import Feedback, FeedbackEvent
from backend.core.areas.tables import Area
from backend.core.categories.tables import Category
from backend.lib.errors import DomainError
from backend.lib.i18n import nfc
from backend.runtime import Runtime

# --------------------------------------------------------------------------------------------------
# Creating a service request


@dataclass(frozen=True)
class Upload:
    kind: str
    data: bytes


def _one(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be a text field")
    return value.strip() or None


def _float(form: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    raw = _one(form, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad(f"{name} must be a decimal number, got {raw!r}") from None
    if not low <= value <= high:
        raise bad(f"{name} must be between {low:g} and {high:g}")
    return value


def parse_attributes(form: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in form:
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute[") : -1]
            if code not in ATTRIBUTE_CODES:
                raise bad(f"unknown attribute {code!r}; see the service definition")
            out[code] = _one(form, key) or ""
    if out.get("anonymous", "true") not in {"true", "false", ""}:
        raise bad("attribute[anonymous] must be true or false")
    return out


async def create_request(
    rt: Runtime, form: Mapping[str, Any], uploads: Sequence[Upload], api_key: uuid.UUID
) -> list[dict[str, Any]]:
    """Validate everything first (each problem names its parameter), then store one report."""
    service_code = _one(form, "service_code")
    if service_code is None:
        raise bad("service_code is required")
    category = await Category.select(Category.active).where(Category.code == service_code).first()
    if category is None or not category["active"]:
        raise bad(f"service_code {service_code!r} not found")
    attributes = parse_attributes(form)
    lat = _float(form, "lat", -90, 90)
    long = _float(form, "long", -180, 180)
    if (lat is None) != (long is None):
        raise bad("lat and long must be given together")
    address_string = _one(form, "address_string") or ""
    if len(address_string) > 512:
        raise bad("address_string is longer than 512 characters")
    address_id = _one(form, "address_id")
    area_attr = attributes.get("area_code") or None
    if address_id and area_attr and address_id != area_attr:
        raise bad("address_id and attribute[area_code] name different areas")
    area_code = address_id or area_attr
    if lat is None and not address_string and area_code is None:
        raise bad("a location is required: lat and long, address_string or address_id")
    area_path = None
    if area_code is not None:
        area = await Area.select(Area.path).where(Area.code == area_code).first()
        if area is None:
            raise bad(
                f"{'address_id' if address_id else 'attribute[area_code]'} {area_code!r} is not a known area code"
            )
        area_path = area["path"]
    description = nfc((_one(form, "description") or "").strip())
    if len(description) > MAX_TEXT:
        raise bad(f"description is longer than {MAX_TEXT} characters ({len(description)})")
    media_url = _one(form, "media_url") or ""
    if media_url and (len(media_url) > 1024 or not media_url.startswith(("http://", "https://"))):
        raise bad("media_url must be an http(s) URL of at most 1024 characters")
    contact = {name: value for name in CONTACT_FIELDS if (value := _one(form, name))}
    for name, value in contact.items():
        if len(value) > 255:
            raise bad(f"{name} is longer than 255 characters")
    anonymous = attributes.get("anonymous") == "true" or (
        attributes.get("anonymous") != "false" and not contact
    )
    try:
        files = services.check_media(rt, [(u.kind, u.data) for u in uploads])
    except DomainError as exc:
        raise bad(f"media: {exc.details}") from exc
    new = services.NewFeedback(
        category=service_code,
        text=description,
        location=services.Location(
            area_code=area_code, area_path=area_path, lat=lat, long=long, address=nfc(address_string)
        ),
        anonymous=anonymous,
        media=files,
        source="open311",
        api_key=api_key,
        contact={} if anonymous else contact,
        media_url=media_url,
    )
    row, _ = await services.create(rt, new, actor_role="open311")
    feedback_id = row["id"]
    return [
        {
            "service_request_id": str(feedback_id),
            "token": row["token"],
            "service_notice": "Phản ánh đã được tiếp nhận.",
            "account_id": None,
        }
    ]


# --------------------------------------------------------------------------------------------------
# Reading service requests


def _parse_date(name: str, raw: str) -> datetime:
    try:
        # An unescaped "+" in a query string arrives as a space: "…T00:00:00 07:00".
        value = datetime.fromisoformat(re.sub(r" (\d\d:?\d\d)$", r"+\1", raw.strip()))
    except ValueError:
        raise bad(f"{name} is not an ISO 8601 date: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


def _csv(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


async def list_requests(rt: Runtime, params: Mapping[str, str | None]) -> list[dict[str, Any]]:
    ids = _csv(params.get("service_request_id"))
    query = Feedback.select()
    if ids:
        wanted = []
        for raw in ids:
            try:
                wanted.append(uuid.UUID(raw))
            except ValueError:
                raise bad(f"service_request_id {raw!r} is not a valid id") from None
        query = query.where(Feedback.id.is_in(wanted))
    else:
        now = rt.clock.now()
        start = _parse_date("start_date", params["start_date"]) if params.get("start_date") else None
        end = _parse_date("end_date", params["end_date"]) if params.get("end_date") else None
        if start and end and end < start:
            raise bad("end_date is before start_date")
        if start and end and end - start > MAX_RANGE:
            raise bad("start_date and end_date may be at most 90 days apart")
        if start is None and end is None:
            end, start = now, now - MAX_RANGE
        elif start is None:
            assert end is not None
            start = end - MAX_RANGE
        elif end is None:
            end = start + MAX_RANGE
        query = query.where((Feedback.created_at >= start) & (Feedback.created_at <= end))
        codes = _csv(params.get("service_code"))
        if codes:
            query = query.where(Feedback.category.is_in(codes))
        groups = _csv(params.get("status"))
        unknown = [g for g in groups if g not in {"open", "closed"}]
        if unknown:
            raise bad(f"status must be open or closed, got {', '.join(unknown)}")
        if groups and len(set(groups)) == 1:
            states = OPEN_STATES if groups[0] == "open" else CLOSED_STATES
            query = query.where(Feedback.status.is_in(list(states)))
    rows = await query.order_by(Feedback.created_at, ascending=False).limit(MAX_ROWS)
    return await _requests_out(rows)


async def get_request(rt: Runtime, raw_id: str) -> list[dict[str, Any]]:
    try:
        feedback_id = uuid.UUID(raw_id)
    except ValueError:
        raise Open311Error(404, f"service_request_id {raw_id!r} not found") from None
    rows = await Feedback.select().where(Feedback.id == feedback_id)
    if not rows:
        raise Open311Error(404, f"service_request_id {raw_id!r} not found")
    return await _requests_out(rows)


async def token_lookup(rt: Runtime, token: str) -> list[dict[str, Any]]:
    row = await Feedback.select(Feedback.id, Feedback.token).where(Feedback.token == token).first()
    if row is None:
        raise Open311Error(404, f"token {token!r} not found")
    return [{"service_request_id": str(row["id"]), "token": row["token"]}]


async def _requests_out(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    names = {r["code"]: r["name_vi"] for r in await Category.select(Category.code, Category.name_vi)}
    area_codes = sorted({r["area_code"] for r in rows if r["area_code"]})
    area_names = {
        a["code"]: a["name"]
        for a in (
            await Area.select(Area.code, Area.name).where(Area.code.is_in(area_codes)) if area_codes else []
        )
    }
    notes: dict[Any, str] = {}
    events = (
        await FeedbackEvent.select(FeedbackEvent.feedback, FeedbackEvent.text)
        .where(
            FeedbackEvent.feedback.is_in(ids)
            & (FeedbackEvent.public == True)  # noqa: E712
            & FeedbackEvent.kind.is_in(["answer", "info_request", "resolved"])
        )
        .order_by(FeedbackEvent.id)
    )
    for e in events:
        if e["text"]:
            notes[e["feedback"]] = e["text"]
    return [
        {
            "service_request_id": str(r["id"]),
            "status": "open" if r["status"] in OPEN_STATES else "closed",
            "status_notes": notes.get(r["id"]),
            "service_name": names.get(r["category"], r["category"]),
            "service_code": r["category"],
            "description": r["text"],
            "agency_responsible": area_names.get(r["area_code"]),
            "service_notice": None,
            "requested_datetime": fmt_time(r["created_at"]),
            "updated_datetime": fmt_time(r["updated_at"]),
            "expected_datetime": None,
            "address": r["address"] or None,
            "address_id": r["area_code"],
            "zipcode": None,
            "lat": r["lat"],
            "long": r["long"],
            "media_url": r["media_url"] or None,
        }
        for r in rows
    ]
