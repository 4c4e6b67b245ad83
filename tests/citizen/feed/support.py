"""Builders for feed tests: real staff actors taking notices through the real lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor, Role
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import ActionIn, NewVersionIn, NoticeIn, NoticeOut, NoticeText
from backend.runtime import Runtime
from tests.factories import Factory

FEED = "/api/v1/citizen/feed"
NOTICES = "/api/v1/citizen/notices"


@dataclass(frozen=True)
class Staff:
    author: Actor
    approver: Actor


async def staff_actor(factory: Factory, role: Role, area: str) -> Actor:
    user = await factory.user((role, area))
    return await accounts.actor_for_account(factory.rt, user.id, accounts.ClientInfo("127.0.0.1", "test"))


async def province_staff(factory: Factory, province: str = "38") -> Staff:
    return Staff(
        author=await staff_actor(factory, Role.PROVINCE_EDITOR, province),
        approver=await staff_actor(factory, Role.PROVINCE_APPROVER, province),
    )


def texts(title: str, **other: str) -> dict[str, NoticeText]:
    out = {"vi": NoticeText(title=title, body=f"Nội dung: {title}", summary=f"Tóm tắt: {title}")}
    for lang, other_title in other.items():
        out[lang] = NoticeText(
            title=other_title, body=f"Body: {other_title}", summary=f"Summary: {other_title}"
        )
    return out


async def publish(
    rt: Runtime,
    staff: Staff,
    title: str,
    targets: list[str],
    *,
    category: str = "health",
    priority: str = "normal",
    valid_until: datetime | None = None,
    translations: dict[str, str] | None = None,
) -> NoticeOut:
    created = await notices.create(
        rt,
        staff.author,
        NoticeIn(
            category=category,
            priority=priority,  # type: ignore[arg-type]
            target_areas=targets,
            texts=texts(title, **(translations or {})),
            valid_until=valid_until,
        ),
    )
    if priority == "emergency":
        return await flows.emergency_publish(rt, staff.approver, created.id, ActionIn(reason="khẩn cấp"))
    await flows.submit(rt, staff.author, created.id, ActionIn())
    await flows.approve(rt, staff.approver, created.id, ActionIn())
    return await flows.publish(rt, staff.approver, created.id, ActionIn())


async def update(rt: Runtime, staff: Staff, notice_id: uuid.UUID, title: str) -> NoticeOut:
    draft = await notices.new_version(
        rt, staff.author, notice_id, NewVersionIn(msg_type="update", texts=texts(title), reason="cập nhật")
    )
    await flows.submit(rt, staff.author, draft.id, ActionIn())
    await flows.approve(rt, staff.approver, draft.id, ActionIn())
    return await flows.publish(rt, staff.approver, draft.id, ActionIn())


async def withdraw(rt: Runtime, staff: Staff, notice_id: uuid.UUID) -> NoticeOut:
    return await flows.withdraw(rt, staff.approver, notice_id, ActionIn(reason="thu hồi"))


async def citizen(
    client: httpx.AsyncClient, areas: list[str], categories: list[str] | None = None, language: str = "vi"
) -> dict[str, str]:
    return (await citizen_with_id(client, areas, categories, language))[0]


async def citizen_with_id(
    client: httpx.AsyncClient, areas: list[str], categories: list[str] | None = None, language: str = "vi"
) -> tuple[dict[str, str], uuid.UUID]:
    device = f"phone-{uuid.uuid4().hex[:12]}"
    response = await client.post(
        "/api/v1/citizens/register", json={"device_id": device, "language": language}
    )
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    body: dict[str, Any] = {"areas": areas, "categories": categories or []}
    subscribed = await client.put("/api/v1/citizen/subscriptions", json=body, headers=headers)
    assert subscribed.status_code == 200, subscribed.text
    return headers, uuid.UUID(response.json()["account_id"])


async def feed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(FEED, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def changes(
    client: httpx.AsyncClient, headers: dict[str, str], since: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(f"{FEED}/changes", params={"since": since, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["items"]]
