"""Web Push fan-out against a real loopback push service that decrypts and checks VAPID."""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend.adapters.push import (
    ENCRYPT_AHEAD,
    PushOptions,
    PyWebPushSender,
    VapidKeys,
    VapidSigner,
    WebPushBatch,
    WebPushTarget,
)
from backend.citizen.feed.tables import ReadReceipt
from backend.citizen.push import channel as push_channel
from backend.citizen.push import deliveries
from backend.citizen.push.tables import PushDelivery, PushRegistration
from backend.core.accounts.tables import Account
from backend.core.notices.tables import Notice
from tests.citizen.push.conftest import stats_of
from tests.citizen.push.pushservice import LoopbackPushService


async def test_every_subscribed_device_gets_the_notice_encrypted_and_signed(world, push_service, app_rt):
    citizens = [await world.citizen() for _ in range(5)]
    village = await world.citizen("38001-01")
    elsewhere = await world.citizen("40001")
    notice = await world.publish(priority="emergency", category="disaster")
    await world.drain()

    counts = push_service.counts()
    assert push_service.rejected == []
    for c in [*citizens, village]:
        assert counts[c.device.sub_id] == 1
    assert counts[elsewhere.device.sub_id] == 0
    got = push_service.for_device(citizens[0].device)[0]
    assert got.message["id"] == notice["id"]
    assert got.message["event"] == "published"
    assert got.message["title"] == "Tiêm chủng"
    assert got.headers["urgency"] == "high"
    assert got.headers["topic"] == uuid.UUID(notice["thread_id"]).hex
    # TTL is the notice's remaining validity (2 h on a clock that has not moved), never 0.
    assert int(got.headers["ttl"]) == 7200
    assert got.claims["aud"] == push_service.origin
    # One VAPID signature for the origin, reused for every message.
    assert len({r.headers["authorization"] for r in push_service.received}) == 1
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["targeted"], stats["sent"], stats["failed"], stats["pruned"]) == (6, 6, 0, 0)


async def test_normal_notice_is_normal_urgency_and_payload_stays_under_3kb(world, push_service):
    citizen = await world.citizen()
    # No summary: the body stands in for it, cut to keep the payload within 3 KB.
    long_text = "Người dân xã Hoằng Hóa chú ý lịch tiêm chủng mở rộng. " * 300
    notice = await world.publish(texts={"vi": {"title": "Tiêm chủng " * 18, "body": long_text}})
    await world.drain()
    [got] = push_service.for_device(citizen.device)
    assert got.headers["urgency"] == "normal"
    assert got.plaintext_size <= 3000
    assert got.message["id"] == notice["id"]
    assert got.message["summary"].endswith("…")
    assert long_text.startswith(got.message["summary"][:-1])


async def test_dead_endpoints_are_pruned_and_not_targeted_again(world, push_service, client):
    alive = await world.citizen()
    gone = await world.citizen()
    missing = await world.citizen()
    push_service.answer(gone.device, (410, {}))
    push_service.answer(missing.device, (404, {}))
    first = await world.publish()
    await world.drain()
    stats = stats_of(await world.stats(first["id"]))
    assert (stats["targeted"], stats["sent"], stats["pruned"]) == (3, 1, 2)
    listed = await client.get("/api/v1/citizen/push-registrations", headers=gone.user.headers)
    assert listed.json()["items"] == []
    pruned = (
        await PushRegistration.select().where(PushRegistration.id == uuid.UUID(gone.registration_id)).first()
    )
    assert pruned["pruned_reason"] == "gone: HTTP 410"

    second = await world.publish()
    await world.drain()
    stats = stats_of(await world.stats(second["id"]))
    assert (stats["targeted"], stats["sent"]) == (1, 1)
    assert push_service.counts()[alive.device.sub_id] == 2


async def test_categories_filter_and_each_device_is_planned_once(world, push_service, client):
    """Subscribers are resolved inside the database when rows are planned: category choices filter
    a normal notice, an emergency reaches everyone, two followed areas still make one delivery."""
    everything = await world.citizen()
    picky = await world.citizen()
    twice = await world.citizen()
    for citizen, body in (
        (picky, {"areas": ["38001"], "categories": ["elections"]}),
        (twice, {"areas": ["38001", "38001-01"], "categories": ["health", "elections"]}),
    ):
        response = await client.put("/api/v1/citizen/subscriptions", json=body, headers=citizen.user.headers)
        assert response.status_code == 200, response.text
    health = await world.publish()
    await world.drain()
    assert push_service.counts() == {everything.device.sub_id: 1, twice.device.sub_id: 1}
    assert stats_of(await world.stats(health["id"]))["targeted"] == 2

    emergency = await world.publish(priority="emergency", category="disaster")
    await world.drain()
    assert push_service.counts() == {d.device.sub_id: 2 - (d is picky) for d in (everything, picky, twice)}
    assert stats_of(await world.stats(emergency["id"]))["targeted"] == 3


async def test_a_deactivated_account_is_not_pushed_to(world, push_service):
    kept = await world.citizen()
    closed = await world.citizen()
    await Account.update({Account.active: False}).where(Account.id == closed.user.id)
    notice = await world.publish(priority="emergency", category="disaster")
    await world.drain()
    assert push_service.counts() == {kept.device.sub_id: 1}
    assert stats_of(await world.stats(notice["id"]))["targeted"] == 1


async def test_429_is_retried_after_retry_after(world, push_service, clock):
    busy = await world.citizen()
    fine = await world.citizen()
    push_service.answer(busy.device, (429, {"Retry-After": "120"}))
    notice = await world.publish()
    await world.drain()
    [row] = await world.push_outbox(notice["id"])
    assert row["status"] == "pending"
    assert row["available_at"] == clock.now() + timedelta(seconds=120)
    assert push_service.counts() == {fine.device.sub_id: 1}
    assert stats_of(await world.stats(notice["id"]))["pending"] == 1

    clock.advance(seconds=119)
    await world.drain()
    assert push_service.counts()[busy.device.sub_id] == 0
    clock.advance(seconds=2)
    await world.drain()
    assert push_service.counts() == {fine.device.sub_id: 1, busy.device.sub_id: 1}
    [row] = await world.push_outbox(notice["id"])
    assert row["status"] == "done"
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["sent"], stats["pending"]) == (2, 0)


async def test_5xx_without_retry_after_backs_off(world, push_service, clock):
    flaky = await world.citizen()
    push_service.answer(flaky.device, (503, {}), (502, {}))
    notice = await world.publish()
    for _ in range(3):
        await world.drain()
        [row] = await world.push_outbox(notice["id"])
        if row["status"] == "done":
            break
        assert row["available_at"] > clock.now()
        clock.set(row["available_at"])
    assert push_service.counts() == {flaky.device.sub_id: 1}
    [delivery] = await PushDelivery.select().where(PushDelivery.notice == uuid.UUID(notice["id"]))
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)


class Crash(BaseException):
    """The worker process dying mid fan-out."""


async def test_a_crash_mid_fanout_resumes_without_sending_twice(
    world, push_service, app_rt, clock, monkeypatch
):
    monkeypatch.setattr(push_channel, "PAGE", 7)
    citizens = [await world.citizen() for _ in range(30)]
    handler = app_rt.channel_handlers["push"]
    real_factory = handler.webpush_factory
    calls = {"n": 0}

    class Dying:
        def __init__(self) -> None:
            self.inner = real_factory()

        async def send(self, target, payload, options):
            calls["n"] += 1
            if calls["n"] == 17:
                raise Crash()
            return await self.inner.send(target, payload, options)

        async def aclose(self):
            await self.inner.aclose()

    handler.webpush_factory = Dying
    notice = await world.publish()
    try:
        await world.drain()
        raise AssertionError("the fan-out should have died")
    except Crash:
        pass
    before = push_service.counts()
    assert 10 <= sum(before.values()) < 30
    rows = await PushDelivery.select(PushDelivery.registration, PushDelivery.status).where(
        PushDelivery.notice == uuid.UUID(notice["id"])
    )
    by_reg = {str(r["registration"]): r["status"] for r in rows}
    for c in citizens:
        # Everything the push service got is recorded as sent; nothing unsent is marked sent.
        assert (by_reg[c.registration_id] == "sent") == (before[c.device.sub_id] == 1)

    handler.webpush_factory = real_factory
    clock.advance(seconds=121)  # the dead worker's outbox lease and its page claim both run out
    await world.drain()
    counts = push_service.counts()
    assert all(counts[c.device.sub_id] == 1 for c in citizens), counts
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["targeted"], stats["sent"], stats["pending"]) == (30, 30, 0)


async def test_a_notice_withdrawn_mid_fanout_stops_after_the_page_in_flight(
    world, push_service, clock, monkeypatch
):
    monkeypatch.setattr(push_channel, "PAGE", 3)
    for _ in range(9):
        await world.citizen()
    notice = await world.publish()
    real_page = push_channel.FanOut._page

    async def page_then_withdraw(self, rows, options):
        done = await real_page(self, rows, options)
        # Withdrawn by someone else while the first page was out; checked before the next page.
        await Notice.update({Notice.status: "withdrawn"}).where(Notice.id == uuid.UUID(notice["id"]))
        return done

    monkeypatch.setattr(push_channel.FanOut, "_page", page_then_withdraw)
    await world.drain()
    clock.advance(seconds=121)  # every lease has run out: a retry finds nothing left to send
    await world.drain()
    assert sum(push_service.counts().values()) == 3
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["targeted"], stats["sent"], stats["skipped"], stats["pending"]) == (9, 3, 6, 0)


async def test_a_page_s_outcomes_are_kept_when_the_next_claim_fails(world, push_service, clock, monkeypatch):
    # A page's outcomes are written with the next page's claim; a claim that fails (the database
    # refusing it, say) must not take them down with it, or the page would be sent again.
    monkeypatch.setattr(push_channel, "PAGE", 4)
    citizens = [await world.citizen() for _ in range(10)]
    claims = {"n": 0}
    real_claim, real_claim_sqlite = deliveries.claim, deliveries._claim_sqlite

    def failing_second(real):
        def wrapper(*args, **kwargs):
            claims["n"] += 1
            if claims["n"] == 2:
                raise RuntimeError("claim refused")
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(deliveries, "claim", failing_second(real_claim))  # PostgreSQL
    monkeypatch.setattr(deliveries, "_claim_sqlite", failing_second(real_claim_sqlite))  # SQLite
    notice = await world.publish()
    await world.drain()
    assert claims["n"] == 2
    [outbox] = await world.push_outbox(notice["id"])
    assert "claim refused" in outbox["last_error"]
    rows = await PushDelivery.select(PushDelivery.status).where(
        PushDelivery.notice == uuid.UUID(notice["id"])
    )
    assert sorted(r["status"] for r in rows) == ["pending"] * 6 + ["sent"] * 4
    assert sum(push_service.counts().values()) == 4

    monkeypatch.setattr(deliveries, "claim", real_claim)
    monkeypatch.setattr(deliveries, "_claim_sqlite", real_claim_sqlite)
    clock.advance(seconds=3600)  # the outbox's backoff
    await world.drain()
    counts = push_service.counts()
    assert all(counts[c.device.sub_id] == 1 for c in citizens), counts
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["targeted"], stats["sent"], stats["pending"]) == (10, 10, 0)


async def test_withdrawal_reaches_the_devices_that_got_the_notice(world, push_service, client):
    citizen = await world.citizen()
    notice = await world.publish()
    await world.drain()
    response = await client.post(
        f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "nhầm lịch"}, headers=world.leader.headers
    )
    assert response.status_code == 200, response.text
    await world.drain()
    events = [r.message["event"] for r in push_service.for_device(citizen.device)]
    assert events == ["published", "withdrawn"]
    topics = {r.headers["topic"] for r in push_service.for_device(citizen.device)}
    assert topics == {uuid.UUID(notice["thread_id"]).hex}
    assert stats_of(await world.stats(notice["id"]), event="withdrawn")["sent"] == 1


async def test_concurrency_is_bounded_and_connections_reused(world, push_service, client):
    push_service.delay = 0.01
    citizens = [await world.citizen() for _ in range(24)]
    await world.publish()
    await world.drain()
    assert all(push_service.counts()[c.device.sub_id] == 1 for c in citizens)
    settings = client.app.state.rt.settings
    assert 1 <= push_service.max_in_flight <= settings.push_concurrency
    assert len(push_service.connections) <= settings.push_concurrency


async def test_stats_count_opened_and_are_for_staff_only(world, push_service, client, app_rt):
    reader = await world.citizen()
    await world.citizen()
    notice = await world.publish()
    await world.drain()
    await ReadReceipt.insert(
        ReadReceipt(
            id=uuid.uuid4(),
            notice=uuid.UUID(notice["id"]),
            account=reader.user.id,
            opened_at=app_rt.clock.now(),
        )
    )
    stats = await world.stats(notice["id"])
    assert stats_of(stats)["opened"] == 1
    assert stats["opened"] == 1
    as_citizen = await client.get(
        f"/api/v1/notices/{notice['id']}/delivery-stats", headers=reader.user.headers
    )
    assert as_citizen.status_code == 403
    unknown = await client.get(f"/api/v1/notices/{uuid.uuid4()}/delivery-stats", headers=world.leader.headers)
    assert unknown.status_code == 404


async def test_a_notice_past_its_validity_is_not_pushed(world, push_service, clock):
    citizen = await world.citizen()
    notice = await world.publish()
    clock.advance(hours=3)
    await world.drain()
    assert push_service.counts()[citizen.device.sub_id] == 0
    stats = stats_of(await world.stats(notice["id"]))
    assert (stats["targeted"], stats["sent"], stats["skipped"]) == (1, 0, 1)


async def test_fcm_devices_are_skipped_when_fcm_is_not_configured(world, push_service, client):
    citizen = await world.citizen(device=False)
    response = await client.post(
        "/api/v1/citizen/push-registrations",
        json={"kind": "fcm", "token": "tok-1"},
        headers=citizen.user.headers,
    )
    assert response.status_code == 201
    notice = await world.publish()
    await world.drain()
    stats = stats_of(await world.stats(notice["id"]), "fcm")
    assert (stats["targeted"], stats["sent"], stats["skipped"]) == (1, 0, 1)
    [row] = await world.push_outbox(notice["id"])
    assert row["status"] == "done"


async def test_a_batch_longer_than_an_encryption_run_pairs_each_body_with_its_device(tmp_path):
    """The fan-out encrypts runs of messages ahead of their requests: every message must still
    go to its own device (each one decrypts with its own key), and a bad subscription fails alone
    without costing the messages encrypted in the same run."""
    keys = VapidKeys.load_or_create(tmp_path)
    service = LoopbackPushService(keys.public_key)
    sender = PyWebPushSender(VapidSigner(keys, "mailto:ops@example.org"), per_origin=8, timeout=10)
    try:
        devices = [service.device() for _ in range(ENCRYPT_AHEAD * 2 + 7)]
        targets = []
        for i, device in enumerate(devices):
            sub = device.subscription()
            p256dh = "not-a-key" if i in (3, ENCRYPT_AHEAD, ENCRYPT_AHEAD * 2 + 6) else sub["keys"]["p256dh"]
            targets.append(WebPushTarget(sub["endpoint"], p256dh, sub["keys"]["auth"]))
        payloads = [b'{"n": %d}' % i for i in range(len(devices))]
        batch = WebPushBatch(targets, payloads)
        await sender.send_batch(batch, PushOptions(ttl=60, urgency="high", topic="t"), 8)
    finally:
        await sender.aclose()
        service.stop()
    bad = {3, ENCRYPT_AHEAD, ENCRYPT_AHEAD * 2 + 6}
    assert batch.started == len(devices)
    outcomes = [r.outcome if r is not None else None for r in batch.results]
    assert [i for i, o in enumerate(outcomes) if o == "failed"] == sorted(bad)
    assert all(outcomes[i] == "sent" for i in range(len(devices)) if i not in bad)
    assert service.rejected == []
    got = {r.sub_id: r.message["n"] for r in service.received}
    assert got == {d.sub_id: i for i, d in enumerate(devices) if i not in bad}
