"""The SMS channel end to end: opt-in over the API, publish, the outbox worker sends through a real
HTTP gateway on loopback; retries after Retry-After, no double sends after a crash, cost, receipts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.sms.tables import SmsDelivery
from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.core.outbox.tables import OutboxMessage
from backend.settings import Settings
from tests.citizen.sms.gateway import LoopbackSmsGateway
from tests.factories import Factory, User, later, notice_body

PRICE = 850


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway() -> Iterator[LoopbackSmsGateway]:
    service = LoopbackSmsGateway()
    yield service
    service.stop()


@pytest.fixture
def settings(settings: Settings, gateway: LoopbackSmsGateway) -> Settings:
    return settings.with_(
        sms_gateway_url=gateway.url,
        sms_gateway_auth=f"Bearer {gateway.token}",
        sms_price_per_segment=PRICE,
        sms_sender="UBND-TH",
        sms_receipt_token="receipt-secret",
    )


class World:
    def __init__(self, client: Any, factory: Factory) -> None:
        self.client = client
        self.factory = factory
        self.leader: User | None = None

    async def setup(self) -> World:
        await self.factory.tree()
        self.leader = await self.factory.user((Role.COMMUNE_LEADER, "38001"))
        return self

    async def citizen(self, area: str, phone: str | None, **sms: Any) -> User:
        user = await self.factory.user(kind="citizen")
        if phone:
            await Account.update({Account.phone: phone}).where(Account.id == user.id)
        ok = await self.client.put(
            "/api/v1/citizen/subscriptions", json={"areas": [area]}, headers=user.headers
        )
        assert ok.status_code == 200, ok.text
        if sms is not None and sms.get("opt_in", True) and phone:
            body = {k: v for k, v in sms.items() if k != "opt_in"}
            answer = await self.client.put(
                "/api/v1/citizen/sms-subscription", json=body, headers=user.headers
            )
            assert answer.status_code == 200, answer.text
        return user

    def staff(self) -> dict[str, str]:
        assert self.leader is not None
        return {"Authorization": f"Bearer {self.factory.token(self.leader.id)}"}

    async def publish(self, **overrides: Any) -> dict[str, Any]:
        body = notice_body(valid_until=later(self.client.app.state.rt, hours=6), **overrides)
        created = await self.client.post("/api/v1/notices", json=body, headers=self.staff())
        assert created.status_code == 201, created.text
        notice = created.json()
        steps = (
            ("emergency-publish",) if body["priority"] == "emergency" else ("submit", "approve", "publish")
        )
        for step in steps:
            response = await self.client.post(
                f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=self.staff()
            )
            assert response.status_code == 200, response.text
        return response.json()

    async def drain(self) -> int:
        return await self.client.app.state.worker.drain()

    async def stats(self, notice_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/notices/{notice_id}/sms-stats", headers=self.staff())
        assert response.status_code == 200, response.text
        return {e["event"]: e for e in response.json()["events"]}


@pytest.fixture
async def world(client, factory) -> World:
    return await World(client, factory).setup()


EMERGENCY = {
    "priority": "emergency",
    "category": "disaster",
    "texts": {
        "vi": {
            "title": "Lũ quét thôn Đông",
            "body": "Đề nghị người dân thôn Đông di dời ngay đến nhà văn hóa xã. " * 6,
        }
    },
}


async def test_emergency_goes_to_opted_in_phones_in_their_encoding(world, gateway):
    ucs2 = await world.citizen("38001", "0912000001")
    gsm = await world.citizen("38001-01", "0912000002", notices="all", encoding="gsm7")
    await world.citizen("38001", "0912000003", opt_in=False)  # a number, but no opt-in
    await world.citizen("40001", "0912000004")  # opted in, another province
    notice = await world.publish(**EMERGENCY)
    await world.drain()

    assert sorted(r.to for r in gateway.received) == ["0912000001", "0912000002"]
    [first] = gateway.to("0912000001")
    assert first.encoding == "ucs2"
    assert first.text.startswith("KHẨN CẤP: Lũ quét thôn Đông. Đề nghị người dân thôn Đông di dời")
    assert first.sender == "UBND-TH"
    assert first.idempotency_key == first.reference
    [plain] = gateway.to("0912000002")
    assert plain.encoding == "gsm7"
    assert plain.text.startswith("KHAN CAP: Lu quet thon Dong. De nghi nguoi dan thon Dong di doi")
    assert plain.text.isascii()

    rows = {
        r["phone"]: r for r in await SmsDelivery.select().where(SmsDelivery.notice == uuid.UUID(notice["id"]))
    }
    assert rows["0912000001"]["segments"] == 3 and rows["0912000002"]["segments"] == 3  # cut to the maximum
    assert rows["0912000001"]["gateway_id"] == first.gateway_id
    stats = (await world.stats(notice["id"]))["published"]
    assert (stats["targeted"], stats["sent"], stats["failed"], stats["pending"]) == (2, 2, 0, 0)
    assert stats["segments"] == 6 and stats["cost"] == 6 * PRICE
    assert ucs2 and gsm

    # The preview offers both encodings with their cost.
    preview = await world.client.get(f"/api/v1/notices/{notice['id']}/sms-preview", headers=world.staff())
    variants = {v["encoding"]: v for v in preview.json()["variants"]}
    assert variants["ucs2"]["text"] == first.text and variants["gsm7"]["text"] == plain.text
    assert variants["gsm7"]["cost"] == variants["gsm7"]["segments"] * PRICE


async def test_normal_notices_only_to_those_who_asked_for_every_notice(world, gateway):
    await world.citizen("38001", "0912000011")
    await world.citizen("38001", "0912000012", notices="all")
    notice = await world.publish(texts={"vi": {"title": "Họp dân", "body": "Họp dân tối nay 19h."}})
    await world.drain()
    [only] = gateway.received
    assert only.to == "0912000012"
    assert only.text == "Họp dân. Họp dân tối nay 19h."
    stats = (await world.stats(notice["id"]))["published"]
    assert (stats["targeted"], stats["sent"], stats["segments"], stats["cost"]) == (1, 1, 1, PRICE)


async def test_a_deactivated_account_gets_no_sms(world, gateway):
    await world.citizen("38001", "0912000021", notices="all")
    closed = await world.citizen("38001", "0912000022", notices="all")
    await Account.update({Account.active: False}).where(Account.id == closed.id)
    await world.publish(texts={"vi": {"title": "Họp dân", "body": "Họp dân tối nay 19h."}})
    await world.drain()
    assert [m.to for m in gateway.received] == ["0912000021"]


async def test_retry_after_is_honoured_and_nothing_is_sent_twice(world, gateway, clock, app_rt):
    await world.citizen("38001", "0912000021")
    await world.citizen("38001", "0912000022")
    gateway.answer("0912000022", (429, {"Retry-After": "120"}), (503, {}))
    notice = await world.publish(**EMERGENCY)
    await world.drain()
    assert [r.to for r in gateway.received] == ["0912000021"]
    outbox = (
        await OutboxMessage.select()
        .where((OutboxMessage.channel == "sms") & (OutboxMessage.aggregate_id == notice["id"]))
        .first()
    )
    assert outbox["status"] == "pending"
    assert outbox["available_at"] == clock.now() + timedelta(seconds=120)
    stats = (await world.stats(notice["id"]))["published"]
    assert (stats["sent"], stats["pending"]) == (1, 1)

    clock.advance(seconds=121)
    await world.drain()  # 503 this time: another retry with backoff
    clock.advance(hours=2)
    await world.drain()
    assert sorted(r.to for r in gateway.received) == ["0912000021", "0912000022"]
    stats = (await world.stats(notice["id"]))["published"]
    assert (stats["targeted"], stats["sent"], stats["pending"], stats["failed"]) == (2, 2, 0, 0)
    row = await SmsDelivery.select().where(SmsDelivery.phone == "0912000022").first()
    assert row["attempts"] == 3

    # The outbox row coming back again (a retry after the last answer was lost) sends nothing new.
    await OutboxMessage.update(
        {OutboxMessage.status: "pending", OutboxMessage.available_at: clock.now()}
    ).where(OutboxMessage.id == outbox["id"])
    await world.drain()
    assert len(gateway.received) == 2 and gateway.duplicates == []


async def test_a_crash_mid_send_is_resent_with_the_same_reference(world, gateway, clock, app_rt):
    await world.citizen("38001", "0912000031")
    notice = await world.publish(**EMERGENCY)
    await world.drain()
    [sent] = gateway.received
    # A worker that died after the gateway took the message but before recording it: the row is
    # left "sending" with its claim running out, and the outbox row comes back.
    await SmsDelivery.update(
        {SmsDelivery.status: "sending", SmsDelivery.claimed_at: clock.now(), SmsDelivery.gateway_id: ""}
    ).where(SmsDelivery.notice == uuid.UUID(notice["id"]))
    await OutboxMessage.update(
        {OutboxMessage.status: "pending", OutboxMessage.available_at: clock.now()}
    ).where((OutboxMessage.channel == "sms") & (OutboxMessage.aggregate_id == notice["id"]))
    await world.drain()  # the claim is young: another worker may be sending it; nothing is sent
    assert gateway.duplicates == []
    clock.advance(minutes=5)
    await world.drain()
    assert gateway.duplicates == [sent.reference]  # re-sent with the same reference: the gateway drops it
    assert len(gateway.received) == 1
    row = await SmsDelivery.select().where(SmsDelivery.notice == uuid.UUID(notice["id"])).first()
    assert row["status"] == "sent" and row["gateway_id"] == sent.gateway_id


async def test_permanent_failure_withdrawal_and_receipts(world, gateway, client):
    await world.citizen("38001", "0912000041")
    await world.citizen("38001", "0912000042")
    gateway.answer("0912000042", (400, {}))
    notice = await world.publish(**EMERGENCY)
    await world.drain()
    stats = (await world.stats(notice["id"]))["published"]
    assert (stats["sent"], stats["failed"]) == (1, 1)
    [sent] = gateway.received

    receipt = await client.post(
        "/api/v1/sms/receipts",
        json={"status": "delivered", "gateway_id": sent.gateway_id},
        headers={"X-Keng-Sms-Token": "receipt-secret"},
    )
    assert receipt.status_code == 200 and receipt.json() == {"matched": True}
    forged = await client.post(
        "/api/v1/sms/receipts", json={"status": "delivered", "gateway_id": sent.gateway_id}
    )
    assert forged.status_code == 403
    assert (await world.stats(notice["id"]))["published"]["delivered"] == 1

    withdrawn = await client.post(
        f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "nhầm"}, headers=world.staff()
    )
    assert withdrawn.status_code == 200
    await world.drain()
    assert [r.to for r in gateway.received] == ["0912000041", "0912000041"]
    assert gateway.received[1].text.startswith(
        "KHẨN CẤP - THU HỒI: Lũ quét thôn Đông. Bản tin này đã được thu hồi"
    )
    stats = await world.stats(notice["id"])
    assert (stats["withdrawn"]["targeted"], stats["withdrawn"]["sent"]) == (1, 1)


async def test_opt_in_rules(world, client):
    citizen = await world.citizen("38001", None)
    missing = await client.put("/api/v1/citizen/sms-subscription", json={}, headers=citizen.headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "phone"
    bad = await client.put(
        "/api/v1/citizen/sms-subscription", json={"phone": "12ab"}, headers=citizen.headers
    )
    assert bad.status_code == 400
    none = await client.get("/api/v1/citizen/sms-subscription", headers=citizen.headers)
    assert none.status_code == 404
    ok = await client.put(
        "/api/v1/citizen/sms-subscription",
        json={"phone": "+84912000051", "notices": "all"},
        headers=citizen.headers,
    )
    assert ok.status_code == 200 and ok.json()["phone"] == "+84912000051"
    again = await client.put(
        "/api/v1/citizen/sms-subscription",
        json={"phone": "+84912000051", "notices": "all"},
        headers=citizen.headers,
    )
    assert again.json() == ok.json()
    staff = await client.put(
        "/api/v1/citizen/sms-subscription", json={"phone": "0912000052"}, headers=world.staff()
    )
    assert staff.status_code == 403
    gone = await client.delete("/api/v1/citizen/sms-subscription", headers=citizen.headers)
    assert gone.status_code == 204
    assert (
        await client.delete("/api/v1/citizen/sms-subscription", headers=citizen.headers)
    ).status_code == 404
