"""FCM fan-out through the firebase-admin SDK, unchanged, against a local fake FCM HTTP v1 endpoint.

The SDK gets its OAuth token from the fake's token endpoint with a JWT signed by a generated
service-account key (the fake verifies it), then sends one HTTP v1 request per token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backend.adapters.push import FCM_BATCH, FirebaseFcmSender, PushOptions
from backend.settings import Settings
from tests.citizen.push.conftest import stats_of
from tests.citizen.push.pushservice import SENDER_ID_MISMATCH, UNREGISTERED, FakeFcm, quota_exceeded

URL = "/api/v1/citizen/push-registrations"


@pytest.fixture
def fake_fcm() -> Iterator[FakeFcm]:
    fake = FakeFcm()
    yield fake
    fake.stop()


@pytest.fixture
def settings(settings: Settings, fake_fcm: FakeFcm, tmp_path: Path) -> Settings:
    return settings.with_(fcm_credentials=fake_fcm.credentials_file(tmp_path), fcm_endpoint=fake_fcm.origin)


async def _fcm_citizen(world, client, token: str):
    citizen = await world.citizen(device=False)
    response = await client.post(URL, json={"kind": "fcm", "token": token}, headers=citizen.user.headers)
    assert response.status_code == 201, response.text
    return citizen


async def test_fcm_devices_get_the_notice_through_the_sdk(world, client, fake_fcm, push_service):
    tokens = [f"tok-{i}-{uuid.uuid4().hex}" for i in range(3)]
    for token in tokens:
        await _fcm_citizen(world, client, token)
    browser = await world.citizen()
    notice = await world.publish(priority="emergency", category="disaster")
    await world.drain()

    assert fake_fcm.tokens_issued >= 1
    assert fake_fcm.counts() == {t: 1 for t in tokens}
    message = fake_fcm.messages[0]
    topic = uuid.UUID(notice["thread_id"]).hex
    assert message["android"]["priority"] == "high"
    assert message["android"]["ttl"] == "7200s"
    assert message["android"]["collapse_key"] == topic
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert message["apns"]["headers"]["apns-collapse-id"] == topic
    assert message["data"]["id"] == notice["id"]
    assert message["notification"]["title"] == "Tiêm chủng"
    assert push_service.counts() == {browser.device.sub_id: 1}
    stats = await world.stats(notice["id"])
    assert (stats_of(stats, "fcm")["targeted"], stats_of(stats, "fcm")["sent"]) == (3, 3)
    assert stats_of(stats, "webpush")["sent"] == 1


async def test_unregistered_and_mismatched_tokens_are_pruned(world, client, fake_fcm):
    await _fcm_citizen(world, client, "tok-alive")
    await _fcm_citizen(world, client, "tok-unregistered")
    await _fcm_citizen(world, client, "tok-mismatch")
    fake_fcm.answers["tok-unregistered"] = [UNREGISTERED]
    fake_fcm.answers["tok-mismatch"] = [SENDER_ID_MISMATCH]
    notice = await world.publish()
    await world.drain()
    stats = stats_of(await world.stats(notice["id"]), "fcm")
    assert (stats["targeted"], stats["sent"], stats["pruned"], stats["failed"]) == (3, 1, 2, 0)

    again = await world.publish()
    await world.drain()
    assert stats_of(await world.stats(again["id"]), "fcm")["targeted"] == 1
    assert fake_fcm.counts() == {"tok-alive": 2}


async def test_quota_exceeded_is_retried_after_retry_after(world, client, fake_fcm, clock):
    await _fcm_citizen(world, client, "tok-throttled")
    fake_fcm.answers["tok-throttled"] = [quota_exceeded(30)]
    notice = await world.publish()
    await world.drain()
    [row] = await world.push_outbox(notice["id"])
    assert row["status"] == "pending"
    assert row["available_at"] == clock.now() + timedelta(seconds=30)
    assert fake_fcm.counts() == {}
    clock.advance(seconds=31)
    await world.drain()
    assert fake_fcm.counts() == {"tok-throttled": 1}
    assert stats_of(await world.stats(notice["id"]), "fcm")["sent"] == 1


async def test_multicast_goes_in_batches_of_at_most_500(settings, fake_fcm):
    sender = FirebaseFcmSender(settings.fcm_credentials, settings.fcm_endpoint)
    tokens = [f"batch-{i}" for i in range(FCM_BATCH + 1)]
    fake_fcm.answers["batch-7"] = [UNREGISTERED]
    try:
        results = await sender.send_multicast(
            tokens, {"id": "n1"}, "Tiêu đề", "Tóm tắt", PushOptions(ttl=60, urgency="normal", topic="t" * 32)
        )
    finally:
        await sender.aclose()
    assert len(results) == FCM_BATCH + 1
    assert [r.outcome for r in results].count("sent") == FCM_BATCH
    assert results[7].outcome == "gone"
    assert len(fake_fcm.messages) == FCM_BATCH
    assert fake_fcm.messages[0]["android"]["priority"] == "normal"
