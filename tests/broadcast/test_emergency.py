"""Emergency override end to end: one signed manifest per target area on the real broker, the same
notice version as the CAP message, repeats and automatic revert, and a signed end on withdrawal."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import aiomqtt
import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.adapters.mqtt import BrokerAddress
from backend.broadcast.cap.tables import CapMessage
from backend.broadcast.tables import Manifest
from backend.devices.server_account import server_credentials
from backend.devices.topics import Topics
from tests.broadcast.support import drain, publish, station, verifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def retained(client, settings, topic: str, wait: float = 3.0) -> bytes | None:
    broker = client.app.state.broker  # the embedded broker picked its own port
    address = BrokerAddress.parse(broker.url if broker is not None else settings.mqtt_url)
    username, password = server_credentials(settings)  # the embedded broker lets no one in anonymously
    async with aiomqtt.Client(
        address.host,
        address.port,
        username=username,
        password=password,
        identifier=f"probe-{uuid.uuid4().hex[:8]}",
    ) as probe:
        await probe.subscribe(topic, qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                async for message in probe.messages:
                    return bytes(message.payload or b"")
    return None


async def test_emergency_plays_everywhere_it_targets_and_ends_signed(
    client, factory, app_rt, settings, clock
):
    await factory.tree()
    leader, _ = await station(client, factory, rules={"voice": "vi-vn-x-central"})
    await station(client, factory, "38002")
    notice = await publish(
        client,
        leader,
        emergency=True,
        priority="emergency",
        category="disaster",
        target_areas=["38001-01", "38001-02"],
        texts={
            "vi": {
                "title": "Lũ quét",
                "body": "Nước lũ dâng nhanh, bà con thôn Đông và thôn Đoài di chuyển lên đồi ngay.",
            }
        },
    )
    await drain(client)
    v = await verifier(client)
    # A loudspeaker in Thôn Đông subscribes to every area on its path; one manifest is in force.
    found = await broadcast.active_emergencies(app_rt, ["VN", "38", "38001", "38001-01"])
    assert len(found) == 1
    manifest = v.verify(found[0], clock.now())
    assert manifest.kind == "emergency" and manifest.group_id is None and manifest.version == 1
    assert manifest.area_codes == ["38001-01", "38001-02"]
    assert manifest.payload["repeat"] == settings.emergency_repeat
    assert manifest.payload["interval_s"] == settings.emergency_interval_seconds
    assert manifest.payload["ended"] is False and manifest.valid_until >= clock.now()
    assert [e["kind"] for e in manifest.entries] == ["emergency_audio", "emergency_slide"]
    assert all(e["preempt"] for e in manifest.entries)
    assert manifest.notices == [{"id": notice["id"], "thread_id": notice["thread_id"], "version": 1}]
    # CAP and the manifest name the same notice version.
    cap = await CapMessage.select(CapMessage.notice_id).where(
        CapMessage.thread_id == uuid.UUID(notice["thread_id"])
    )
    assert [str(c["notice_id"]) for c in cap] == [notice["id"]]
    # Another commune's devices are not targeted.
    assert await broadcast.active_emergencies(app_rt, ["VN", "38", "38002"]) == []
    # One publish per target area, retained, on the real broker.
    topics = Topics.for_settings(settings)
    for code in ("38001-01", "38001-02"):
        assert await retained(client, settings, topics.area_emergency(code, notice["thread_id"])) == found[0]
    media = manifest.media_by_id(manifest.entries[0]["media_id"])
    r = await client.get(media.url.replace("http://127.0.0.1:8000", ""))
    assert r.status_code == 200 and len(r.content) == media.size

    r = await client.post(
        f"/api/v1/notices/{notice['id']}/withdraw", json={"reason": "hết nguy hiểm"}, headers=leader.headers
    )
    assert r.status_code in (200, 201), r.text
    await drain(client)
    assert await broadcast.active_emergencies(app_rt, ["38001-01"]) == []
    end = (
        await Manifest.select(Manifest.envelope)
        .where(Manifest.thread_id == uuid.UUID(notice["thread_id"]))
        .order_by(Manifest.version, ascending=False)
        .first()
    )
    ended = v.verify(end["envelope"].encode(), clock.now())
    assert ended.version == 2 and ended.ended and ended.entries == []
    assert ended.notices[0]["id"] == notice["id"]
    # The retained override is cleared, so a device coming online later plays nothing.
    assert await retained(
        client, settings, topics.area_emergency("38001-01", notice["thread_id"]), wait=1.0
    ) in (
        None,
        b"",
    )


async def test_an_update_dropping_an_area_reaches_it_signed_then_clears_it(
    client, factory, app_rt, settings, clock
):
    await factory.tree()
    leader, _ = await station(client, factory)
    first = await publish(
        client,
        leader,
        emergency=True,
        priority="emergency",
        category="disaster",
        target_areas=["38001-01", "38001-02"],
    )
    await drain(client)
    topics = Topics.for_settings(settings)
    dropped_topic = topics.area_emergency("38001-02", first["thread_id"])
    broker = client.app.state.broker
    address = BrokerAddress.parse(broker.url if broker is not None else settings.mqtt_url)
    username, password = server_credentials(settings)
    async with aiomqtt.Client(
        address.host,
        address.port,
        username=username,
        password=password,
        identifier=f"dev-{uuid.uuid4().hex[:8]}",
    ) as device:
        await device.subscribe(dropped_topic, qos=1)
        got: list[bytes] = []
        async with asyncio.timeout(5):
            async for message in device.messages:  # the retained version 1
                got.append(bytes(message.payload or b""))
                break
        r = await client.post(
            f"/api/v1/notices/{first['id']}/versions",
            json={"msg_type": "update", "target_areas": ["38001-01"], "reason": "nước đã rút ở thôn Đoài"},
            headers=leader.headers,
        )
        assert r.status_code == 201, r.text
        update = r.json()
        r = await client.post(
            f"/api/v1/notices/{update['id']}/emergency-publish", json={}, headers=leader.headers
        )
        assert r.status_code in (200, 201), r.text
        await drain(client)
        async with asyncio.timeout(5):
            async for message in device.messages:  # the new version, then the cleared retained copy
                got.append(bytes(message.payload or b""))
                if len(got) == 3:
                    break
    v = await verifier(client)
    old, new = v.verify(got[0], clock.now()), v.verify(got[1], clock.now())
    assert old.area_codes == ["38001-01", "38001-02"] and new.version > old.version
    assert new.area_codes == ["38001-01"] and new.scope == old.scope
    assert new.notices[0]["id"] == update["id"] and got[2] == b""
    assert await retained(client, settings, dropped_topic, wait=1.0) in (None, b"")
    kept = await retained(client, settings, topics.area_emergency("38001-01", first["thread_id"]))
    assert v.verify(kept, clock.now()).version == new.version
    assert await broadcast.active_emergencies(app_rt, ["VN", "38", "38001", "38001-02"]) == []
