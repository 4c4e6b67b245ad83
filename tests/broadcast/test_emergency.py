"""Emergency override end to end: one signed manifest per target area on the real broker, the same
notice version as the CAP message, repeats and automatic revert, and a signed end on withdrawal."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

import aiomqtt
import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.adapters.mqtt import BrokerAddress
from backend.broadcast.cap.tables import CapMessage
from backend.broadcast.tables import Emergency, Manifest
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit.tables import AuditEntry
from backend.core.notices import flows
from backend.core.notices.schemas import EmergencyPublishIn
from backend.core.notices.tables import Notice
from backend.core.outbox import services as outbox
from backend.core.outbox.tables import OutboxMessage
from backend.devices.server_account import server_credentials
from backend.devices.topics import Topics
from backend.lib.errors import ValidationFailed
from tests.broadcast.support import drain, publish, station, verifier
from tests.factories import notice_body


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


async def _draft(client, user, **overrides) -> dict:
    r = await client.post(
        "/api/v1/notices",
        json=notice_body(priority="emergency", category="disaster", target_areas=["38001-01"], **overrides),
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _emergency_manifest(app_rt, client, clock, thread_id: str):
    row = (
        await Manifest.select(Manifest.envelope)
        .where(Manifest.thread_id == uuid.UUID(thread_id))
        .order_by(Manifest.version, ascending=False)
        .first()
    )
    return (await verifier(client)).verify(row["envelope"].encode(), clock.now())


async def test_the_approver_chooses_repeats_and_interval_and_an_update_keeps_or_changes_them(
    client, factory, app_rt, settings, clock
):
    await factory.tree()
    leader, _ = await station(client, factory)
    draft = await _draft(client, leader)
    r = await client.post(
        f"/api/v1/notices/{draft['id']}/emergency-publish",
        json={"reason": "lũ về nhanh", "repeat": 5, "interval_s": 60},
        headers=leader.headers,
    )
    assert r.status_code == 200, r.text
    first = r.json()
    assert (first["emergency_repeat"], first["emergency_interval_s"]) == (5, 60)
    await drain(client)
    manifest = await _emergency_manifest(app_rt, client, clock, first["thread_id"])
    assert (manifest.payload["repeat"], manifest.payload["interval_s"]) == (5, 60)
    audio_ms = manifest.entries[0]["duration_ms"]
    ends = datetime.fromisoformat(manifest.payload["ends"])
    expected = datetime.fromisoformat(first["published_at"]) + timedelta(
        seconds=4 * 60, milliseconds=audio_ms
    )
    assert ends == expected.replace(microsecond=0)  # four intervals, then the last play; to the second
    state = await Emergency.select().where(Emergency.thread_id == uuid.UUID(first["thread_id"])).first()
    assert (state["repeat"], state["interval_s"]) == (5, 60)
    entry = (
        await AuditEntry.select(AuditEntry.details)
        .where((AuditEntry.action == "notice.emergency_publish") & (AuditEntry.target_id == first["id"]))
        .first()
        .output(load_json=True)
    )
    assert (entry["details"]["repeat"], entry["details"]["interval_s"]) == (5, 60)
    r = await client.get(f"/api/v1/notices/{first['id']}", headers=leader.headers)
    assert (r.json()["emergency_repeat"], r.json()["emergency_interval_s"]) == (5, 60)
    # Officials' phones see them too (the synced notice row).
    r = await client.post(
        "/api/v1/sync",
        json={"protocol": 2, "device": "d-leader-phone", "cursor": 0, "mutations": [], "max_bytes": 1 << 20},
        headers=leader.headers,
    )
    assert r.status_code == 200, r.text
    synced = {c["id"]: c["f"] for c in r.json()["changes"] if c["t"] == "notice"}
    assert (synced[first["id"]]["repeat"], synced[first["id"]]["interval_s"]) == (5, 60)

    # An update that says nothing about them keeps them.
    r = await client.post(
        f"/api/v1/notices/{first['id']}/versions",
        json={"msg_type": "update", "reason": "nước tiếp tục dâng"},
        headers=leader.headers,
    )
    update = r.json()
    r = await client.post(
        f"/api/v1/notices/{update['id']}/emergency-publish", json={}, headers=leader.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["emergency_repeat"], r.json()["emergency_interval_s"]) == (5, 60)
    await drain(client)
    manifest = await _emergency_manifest(app_rt, client, clock, first["thread_id"])
    assert manifest.notices[0]["id"] == update["id"]
    assert (manifest.payload["repeat"], manifest.payload["interval_s"]) == (5, 60)

    # An update that names one changes it and keeps the other.
    r = await client.post(
        f"/api/v1/notices/{update['id']}/versions",
        json={"msg_type": "update", "reason": "mưa giảm"},
        headers=leader.headers,
    )
    second = r.json()
    r = await client.post(
        f"/api/v1/notices/{second['id']}/emergency-publish", json={"repeat": 2}, headers=leader.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["emergency_repeat"], r.json()["emergency_interval_s"]) == (2, 60)
    await drain(client)
    manifest = await _emergency_manifest(app_rt, client, clock, first["thread_id"])
    assert manifest.notices[0]["id"] == second["id"]
    assert (manifest.payload["repeat"], manifest.payload["interval_s"]) == (2, 60)
    state = await Emergency.select().where(Emergency.thread_id == uuid.UUID(first["thread_id"])).first()
    assert (state["repeat"], state["interval_s"]) == (2, 60)

    # Left out on a new emergency: the province settings, shown on the notice.
    other = await _draft(client, leader)
    r = await client.post(f"/api/v1/notices/{other['id']}/emergency-publish", json={}, headers=leader.headers)
    assert (r.json()["emergency_repeat"], r.json()["emergency_interval_s"]) == (
        settings.emergency_repeat,
        settings.emergency_interval_seconds,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repeat": 0}, "repeat"),
        ({"repeat": 11}, "repeat"),
        ({"interval_s": 9}, "interval_s"),
        ({"interval_s": 3601}, "interval_s"),
    ],
)
async def test_out_of_bounds_repeats_or_interval_are_refused_and_change_nothing(
    client, factory, app_rt, body, field
):
    await factory.tree()
    leader, _ = await station(client, factory)
    draft = await _draft(client, leader)
    audits = await AuditEntry.count()
    r = await client.post(
        f"/api/v1/notices/{draft['id']}/emergency-publish",
        json={"reason": "x", **body},
        headers=leader.headers,
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input"
    assert any(field in d["field"] for d in error["details"]), error
    # Inside the server (the upstream follower calls the flow directly) the same bounds hold: 422.
    actor = await actor_for_account(app_rt, leader.id, ClientInfo(addr="", request_id=""))
    with pytest.raises(ValidationFailed) as caught:
        await flows.emergency_publish(app_rt, actor, uuid.UUID(draft["id"]), EmergencyPublishIn(**body))
    assert caught.value.status_code == 422
    assert [d["field"] for d in caught.value.details] == [field]
    row = await Notice.select().where(Notice.id == uuid.UUID(draft["id"])).first()
    assert (row["status"], row["row_version"], row["emergency_repeat"], row["emergency_interval_s"]) == (
        "draft",
        draft["row_version"],
        None,
        None,
    )
    assert await AuditEntry.count() == audits
    assert await OutboxMessage.count().where(OutboxMessage.aggregate_id == draft["id"]) == 0


async def test_an_emergency_goes_out_before_work_queued_ahead_of_it(client, factory, app_rt):
    """Thousands of rows may be waiting (desired states of newly provisioned devices, a big push
    fan-out); the approved emergency's rows are claimed first, an ordinary notice's in turn."""
    await factory.tree()
    leader, _ = await station(client, factory, "38001")
    await drain(client)
    async with app_rt.db.transaction():
        for n in range(25):
            await outbox.enqueue(app_rt, channel="devices", event="desired", aggregate_id=f"d{n}", payload={})
    normal = await publish(client, leader, target_areas=["38001"])
    sos = await publish(
        client, leader, emergency=True, priority="emergency", category="disaster", target_areas=["38001"]
    )
    claimed = await outbox.claim(app_rt, "w-test", list(outbox.CHANNELS), limit=5)
    assert [m.aggregate_id for m in claimed] == [sos["id"]] * 5  # push, mqtt, e-boards, CAP, SMS
    later = await outbox.claim(app_rt, "w-test", list(outbox.CHANNELS), limit=30)
    assert [m.aggregate_id for m in later][:25] == [f"d{n}" for n in range(25)]
    assert {m.aggregate_id for m in later[25:]} == {normal["id"]}
