"""Push tests run the app against loopback push services, with a clock that moves only when told."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.push.services import vapid_keys
from backend.core.accounts.permissions import Role
from backend.core.outbox.tables import OutboxMessage
from backend.settings import Settings
from tests.citizen.push.pushservice import Device, LoopbackPushService
from tests.factories import Factory, User, later, notice_body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The loopback push service is the only push service these tests may reach (over http).
    return settings.with_(webpush_hosts="127.0.0.1", push_concurrency=8)


@pytest.fixture
def push_service(settings: Settings) -> Iterator[LoopbackPushService]:
    service = LoopbackPushService(vapid_keys(settings).public_key)
    yield service
    service.stop()


@dataclass
class Citizen:
    user: User
    device: Device | None = None
    registration_id: str = ""


class PushWorld:
    """A tree, staff who can publish in commune 38001, and helpers for citizens and notices."""

    def __init__(self, client: Any, factory: Factory, service: LoopbackPushService) -> None:
        self.client = client
        self.factory = factory
        self.service = service
        self.leader: User | None = None

    async def setup(self) -> PushWorld:
        await self.factory.tree()
        self.leader = await self.factory.user((Role.COMMUNE_LEADER, "38001"))
        return self

    async def citizen(self, area: str = "38001", *, device: bool = True, language: str = "vi") -> Citizen:
        user = await self.factory.user(kind="citizen")
        response = await self.client.put(
            "/api/v1/citizen/subscriptions", json={"areas": [area]}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        citizen = Citizen(user)
        if device:
            citizen.device = self.service.device()
            registered = await self.client.post(
                "/api/v1/citizen/push-registrations",
                json={"kind": "webpush", "subscription": citizen.device.subscription(), "language": language},
                headers=user.headers,
            )
            assert registered.status_code == 201, registered.text
            citizen.registration_id = registered.json()["id"]
        return citizen

    async def publish(self, **overrides: Any) -> dict[str, Any]:
        assert self.leader is not None
        rt = self.client.app.state.rt
        body = notice_body(valid_until=later(rt, hours=2), **overrides)
        created = await self.client.post("/api/v1/notices", json=body, headers=self.leader.headers)
        assert created.status_code == 201, created.text
        notice = created.json()
        steps = (
            ("emergency-publish",) if body["priority"] == "emergency" else ("submit", "approve", "publish")
        )
        for step in steps:
            response = await self.client.post(
                f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=self.leader.headers
            )
            assert response.status_code == 200, response.text
        return response.json()

    async def drain(self) -> int:
        return await self.client.app.state.worker.drain()

    async def stats(self, notice_id: str) -> dict[str, Any]:
        assert self.leader is not None
        fresh = {"Authorization": f"Bearer {self.factory.token(self.leader.id)}"}  # the clock may have moved
        response = await self.client.get(f"/api/v1/notices/{notice_id}/delivery-stats", headers=fresh)
        assert response.status_code == 200, response.text
        return response.json()

    async def push_outbox(self, notice_id: str) -> list[dict[str, Any]]:
        return await OutboxMessage.select().where(
            (OutboxMessage.channel == "push") & (OutboxMessage.aggregate_id == notice_id)
        )


@pytest.fixture
async def world(client: Any, factory: Factory, push_service: LoopbackPushService) -> AsyncIterator[PushWorld]:
    yield await PushWorld(client, factory, push_service).setup()


def stats_of(stats: dict[str, Any], channel: str = "webpush", event: str = "published") -> dict[str, Any]:
    for row in stats["channels"]:
        if row["channel"] == channel and row["event"] == event:
            return row
    raise AssertionError(f"no {channel}/{event} row in {stats}")
