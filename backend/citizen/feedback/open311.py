"""Open311 GeoReport v2 over the feedback store: services are the feedback categories, service
requests are feedback reports. Output never names the reporter — no account, device, name, e-mail or
phone appears in any document — so anonymous reports stay anonymous.

Mapping choices: ``service_code`` is the category code (a string); ``address_id`` is an official
area code (the administrative tree is our address register); ``service_request_id`` is the
report's id and ``token`` its public tracking token (both are returned at once, since reports are
stored synchronously). Dates are ISO 8601 with the +07:00 offset of Asia/Ho_Chi_Minh; a date
without an offset in a query is read as Vietnamese time."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree import ElementTree as ET

import msgspec

from backend.citizen.feedback.tables import Open311ApiKey
from backend.core.accounts.permissions import Actor
from backend.core.audit import services as audit
from backend.core.categories.tables import Category
from backend.lib.crypto import token_digest
from backend.runtime import Runtime

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
MAX_RANGE = timedelta(days=90)
MAX_ROWS = 1000
CHANGESET = "2026-01-01T00:00:00+07:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
FORMATS = {"json": "application/json", "xml": "text/xml; charset=utf-8"}

ATTRIBUTES: list[dict[str, Any]] = [
    {
        "variable": True,
        "code": "area_code",
        "datatype": "string",
        "required": False,
        "datatype_description": "Mã địa bàn hành chính (xã/phường hoặc thôn), ví dụ 38001",
        "order": 1,
        "description": "Địa bàn nơi xảy ra sự việc (có thể gửi thay cho address_id)",
        "values": [],
    },
    {
        "variable": True,
        "code": "anonymous",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": None,
        "order": 2,
        "description": "Ẩn danh người phản ánh? (mặc định: có)",
        "values": [
            {"key": "true", "name": "Có — không lưu thông tin liên hệ"},
            {"key": "false", "name": "Không — cơ quan xử lý có thể liên hệ"},
        ],
    },
]
ATTRIBUTE_CODES = {a["code"] for a in ATTRIBUTES}


class Open311Error(Exception):
    """An error in GeoReport's own shape: ``[{"code", "description"}]`` with the HTTP status."""

    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def split_name(name: str) -> tuple[str, str]:
    """``requests.json`` → (``requests``, ``json``); an unknown format is an unknown resource."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS or not stem:
        raise Open311Error(404, f"unknown resource {name!r}: use .json or .xml")
    return stem, fmt


def fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(VN_TZ).isoformat(timespec="seconds") if value else None


def check_jurisdiction(rt: Runtime, jurisdiction_id: str | None) -> None:
    if jurisdiction_id and jurisdiction_id != rt.settings.province_code:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} not found")


# --------------------------------------------------------------------------------------------------
# Rendering


_SINGULAR = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _xml_fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _xml_fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        child_tag = _SINGULAR.get(element.tag, "item")
        for item in value:
            _xml_fill(ET.SubElement(element, child_tag), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(fmt: str, body: Any, root: str, item: str | None = None) -> bytes:
    """JSON as it is; XML under ``root`` (each list item as ``item``)."""
    if fmt == "json":
        return msgspec.json.encode(body)
    element = ET.Element(root)
    if item is not None:
        for entry in body:
            _xml_fill(ET.SubElement(element, item), entry)
    else:
        _xml_fill(element, body)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render_errors(fmt: str, status: int, description: str) -> bytes:
    return render(fmt, [{"code": status, "description": description}], "errors", "error")


# --------------------------------------------------------------------------------------------------
# Discovery and services


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "Quản trị hệ thống thông tin nguồn cấp tỉnh",
        "key_service": "Xin api_key từ quản trị viên (lệnh: keng open311-key create TÊN)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


async def service_list(rt: Runtime) -> list[dict[str, Any]]:
    rows = (
        await Category.select()
        .where(Category.active == True)  # noqa: E712
        .order_by(Category.position)
        .order_by(Category.code)
    )
    return [
        {
            "service_code": r["code"],
            "service_name": r["name_vi"],
            "description": r["description"] or r["name_en"],
            "metadata": True,
            "type": "realtime",
            "keywords": r["name_en"],
            "group": "",
        }
        for r in rows
    ]


async def service_definition(rt: Runtime, code: str) -> dict[str, Any]:
    row = (
        await Category.select(Category.code)
        .where((Category.code == code) & (Category.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    return {"service_code": code, "attributes": ATTRIBUTES}


# --------------------------------------------------------------------------------------------------
# API keys


async def create_key(rt: Runtime, name: str) -> str:
    """Issue a key for an Open311 client; only its digest is stored, so it is shown once."""
    key = secrets.token_urlsafe(24)
    async with rt.db.transaction():
        key_id = uuid.uuid4()
        await Open311ApiKey.insert(
            Open311ApiKey(
                id=key_id, name=name, digest=token_digest(key), active=True, created_at=rt.clock.now()
            )
        )
        await audit.record(
            rt,
            Actor.system("cli"),
            "open311.key_create",
            target_type="open311_key",
            target_id=str(key_id),
            details={"name": name},
        )
    return key


async def list_keys(rt: Runtime) -> list[dict[str, Any]]:
    return await Open311ApiKey.select(
        Open311ApiKey.id,
        Open311ApiKey.name,
        Open311ApiKey.active,
        Open311ApiKey.created_at,
        Open311ApiKey.last_used_at,
    ).order_by(Open311ApiKey.created_at)


async def revoke_key(rt: Runtime, name: str) -> int:
    async with rt.db.transaction():
        rows = await (
            Open311ApiKey.update({Open311ApiKey.active: False})
            .where((Open311ApiKey.name == name) & (Open311ApiKey.active == True))  # noqa: E712
            .returning(Open311ApiKey.id)
        )
        for r in rows:
            await audit.record(
                rt,
                Actor.system("cli"),
                "open311.key_revoke",
                target_type="open311_key",
                target_id=str(r["id"]),
                details={"name": name},
            )
    return len(rows)


async def check_key(rt: Runtime, key: str | None) -> uuid.UUID:
    if not key:
        raise Open311Error(403, "api_key is required to submit a service request")
    row = (
        await Open311ApiKey.select(Open311ApiKey.id, Open311ApiKey.active)
        .where(Open311ApiKey.digest == token_digest(key))
        .first()
    )
    if row is None or not row["active"]:
        raise Open311Error(403, "invalid api_key")
    await Open311ApiKey.update({Open311ApiKey.last_used_at: rt.clock.now()}).where(
        Open311ApiKey.id == row["id"]
    )
    return row["id"]
