"""Issued manifests as devices receive them (keys endpoint + verification), versions per scope, and
the exports the devices stream builds on: groups, current manifests, emergencies, proof of play."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.broadcast.manifests import store
from backend.core.accounts.permissions import Role
from mobile_client_py.manifest import ManifestRejected, ManifestVerifier, keys_from_response

BASE = "/api/v1/broadcast"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def make_station(client, factory, commune="38001"):
    leader = await factory.user((Role.COMMUNE_LEADER, commune))
    r = await client.post(f"{BASE}/stations", json={"area_code": commune}, headers=leader.headers)
    assert r.status_code == 201, r.text
    return leader, r.json()


def draft(rt, group_id, station_id, entries, kind="eboard", days=7):
    now = rt.clock.now()
    return store.Draft(
        kind=kind,
        scope=store.group_scope(group_id, kind),
        station_id=station_id,
        group_id=group_id,
        area_codes=[],
        entries=entries,
        media=[],
        notices=[],
        valid_from=now,
        valid_until=now + timedelta(days=days),
    )


async def test_group_manifests_are_versioned_signed_and_verifiable(client, factory, app_rt, clock):
    await factory.tree()
    leader, station = await make_station(client, factory)
    group_id = uuid.UUID(station["default_group_id"])
    station_id = uuid.UUID(station["id"])

    info = await broadcast.get_group(app_rt, group_id)
    assert (
        info is not None and info.station_area_code == "38001" and info.station_area_path == "/VN/38/38001/"
    )
    assert info.area_codes == ["38001"] and info.is_default
    assert await broadcast.get_group(app_rt, uuid.uuid4()) is None
    assert await broadcast.get_group(app_rt, "not-a-uuid") is None
    assert await broadcast.current_manifests(app_rt, group_id) == []

    first = await store.issue(app_rt, draft(app_rt, group_id, station_id, [{"id": "a"}]))
    again = await store.issue(app_rt, draft(app_rt, group_id, station_id, [{"id": "a"}]))
    assert (first.version, first.changed, again.version, again.changed) == (1, True, 1, False)
    second = await store.issue(app_rt, draft(app_rt, group_id, station_id, [{"id": "b"}]))
    assert second.version == 2
    audio = await store.issue(app_rt, draft(app_rt, group_id, station_id, [{"id": "s"}], kind="audio"))
    assert audio.version == 1  # versions count per group and kind

    keys = (await client.get("/api/v1/keys/province")).json()
    assert keys[0]["kid"] == app_rt.province_keys.current.kid and keys[0]["alg"] == "Ed25519"
    verifier = ManifestVerifier(keys_from_response(keys))
    held = [verifier.verify(e, clock.now()) for e in await broadcast.current_manifests(app_rt, group_id)]
    assert [(m.kind, m.version, m.entries) for m in held] == [
        ("audio", 1, [{"id": "s"}]),
        ("eboard", 2, [{"id": "b"}]),
    ]
    assert held[1].group_id == str(group_id) and held[1].station_id == str(station_id)
    # The first version, replayed, is refused by a device holding the second.
    with pytest.raises(ManifestRejected):
        verifier.verify(first.envelope, clock.now())

    # Staff see the same envelopes decoded.
    view = (await client.get(f"{BASE}/groups/{group_id}/manifests", headers=leader.headers)).json()
    assert [m["payload"]["version"] for m in view["items"]] == [1, 2]
    # A manifest past its validity is no longer handed out.
    clock.advance(days=8)
    assert await broadcast.current_manifests(app_rt, group_id) == []


async def test_active_emergencies_match_any_area_on_the_path(rt, clock):
    thread = uuid.uuid4()
    now = clock.now()

    def emergency(areas, ended=False, version_note="x"):
        return store.Draft(
            kind="emergency",
            scope=store.emergency_scope(thread),
            station_id=None,
            group_id=None,
            area_codes=areas,
            entries=[{"id": version_note}],
            media=[],
            notices=[{"id": "n", "thread_id": str(thread), "version": 1}],
            valid_from=now,
            valid_until=now + timedelta(hours=2),
            thread_id=thread,
            extra={
                "repeat": 3,
                "interval_s": 60,
                "ends": store.iso(now + timedelta(hours=2)),
                "ended": ended,
            },
        )

    await store.issue(rt, emergency(["38001"]))
    assert len(await broadcast.active_emergencies(rt, ["VN", "38", "38001", "38001-01"])) == 1
    assert await broadcast.active_emergencies(rt, ["VN", "38", "38002"]) == []
    ended = await store.issue(rt, emergency(["38001"], ended=True, version_note="end"))
    assert ended.version == 2
    assert await broadcast.active_emergencies(rt, ["38001"]) == []


async def test_proof_of_play_is_idempotent_and_feeds_coverage(rt):
    notice = uuid.uuid4()
    now = rt.clock.now()

    def report(device, report_id, result="played"):
        return broadcast.PlayReport(
            device_id=device,
            group_id=None,
            report_id=report_id,
            manifest_id=None,
            item_id=f"{uuid.uuid4()}/0",
            notice_id=notice,
            media_sha256="a" * 64,
            started_at=now,
            ended_at=now + timedelta(seconds=30),
            result=result,
        )

    assert await broadcast.record_play(rt, report("loa-1", "r1")) is True
    assert await broadcast.record_play(rt, report("loa-1", "r1")) is False
    assert await broadcast.record_play(rt, report("loa-2", "r1", result="failed")) is True
    assert await broadcast.record_play(rt, report("loa-3", "r9")) is True
    assert await broadcast.played_devices(rt, notice) == {"loa-1", "loa-3"}
    assert await broadcast.broadcast_notices(rt, [notice, uuid.uuid4()]) == {
        "mqtt": {notice},
        "eboard": set(),
    }
