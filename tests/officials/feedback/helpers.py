"""Builders for the staff-handling tests: reports sent by citizens over HTTP, staff accounts,
units and routing rules."""

from __future__ import annotations

from typing import Any

from backend.core.accounts.permissions import Role
from tests.citizen.feedback.helpers import citizen, report

CITIZEN_URL = "/api/v1/citizen/feedback"
URL = "/api/v1/staff/feedback"
CONFIG = "/api/v1/staff/feedback-config"


async def submit(client: Any, headers: dict[str, str] | None = None, **change: Any) -> str:
    if headers is None:
        headers, _ = await citizen(client)
    response = await client.post(CITIZEN_URL, json=report(**change), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def staff(factory: Any, role: Role = Role.FEEDBACK_HANDLER, area: str = "38001") -> Any:
    return await factory.user((role, area))


async def admin(factory: Any) -> Any:
    return await factory.user((Role.ADMIN, "VN"))


async def unit(client: Any, admin_user: Any, name: str, area: str, supervisor: str | None = None) -> str:
    body = {"name": name, "area_code": area, "supervisor": supervisor}
    response = await client.post(f"{CONFIG}/units", json=body, headers=admin_user.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def rule(client: Any, admin_user: Any, area: str, unit_id: str, category: str = "") -> str:
    body = {"area_code": area, "unit": unit_id, "category": category}
    response = await client.post(f"{CONFIG}/rules", json=body, headers=admin_user.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def act(
    client: Any, user: Any, feedback_id: str, action: str, body: dict[str, Any] | None = None
) -> Any:
    return await client.post(f"{URL}/{feedback_id}/{action}", json=body or {}, headers=user.headers)
