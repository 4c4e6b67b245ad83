"""From a published notice to a signed audio manifest and an e-board playlist, end to end: the
outbox worker speaks, compiles, assembles, signs and publishes; a device verifies what it gets."""

from __future__ import annotations

import uuid

import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.broadcast.tables import PlannedSession
from mobile_client_py.manifest import verify_media
from tests.broadcast.support import BASE, drain, publish, station, verifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # Thursday 1 January 2026, 07:00 in Vietnam


def payload_notices(manifest) -> set[str]:
    return {n["id"] for n in manifest.notices}


async def test_published_notices_become_signed_programmes_and_playlists(client, factory, app_rt, clock):
    await factory.tree()
    leader, st = await station(client, factory)
    r = await client.post(
        f"{BASE}/stations/{st['id']}/groups",
        json={
            "name": "Thôn Đông",
            "area_codes": ["38001-01"],
            "eboard": {"resolutions": [{"width": 192, "height": 64}, {"width": 1920, "height": 1080}]},
        },
        headers=leader.headers,
    )
    village = r.json()
    urgent = await publish(
        client,
        leader,
        priority="priority",
        texts={
            "vi": {"title": "Lịch cắt điện", "body": "Cắt điện toàn xã từ 8 giờ đến 11 giờ sáng thứ Sáu."}
        },
    )
    chosen = await publish(
        client,
        leader,
        target_areas=["38001-01"],
        texts={"vi": {"title": "Họp thôn", "body": "Họp thôn Đông tối thứ Bảy tại nhà văn hóa."}},
    )
    skipped = await publish(
        client, leader, texts={"vi": {"title": "Tin thường", "body": "Tin không được chọn phát loa."}}
    )
    r = await client.post(
        f"{BASE}/stations/{st['id']}/programme",
        json={"kind": "notice", "notice_thread_id": chosen["thread_id"]},
        headers=leader.headers,
    )
    assert r.status_code == 201, r.text
    await drain(client)

    v = await verifier(client)
    held = [v.verify(e, clock.now()) for e in await broadcast.current_manifests(app_rt, village["id"])]
    assert [m.kind for m in held] == ["audio", "eboard"]
    audio, board = held
    assert payload_notices(audio) == {urgent["id"], chosen["id"]}
    first = audio.entries[0]
    assert first["starts_at"] == "2026-01-01T10:00:00Z"  # 17:00 Vietnam time today
    kinds = [i["kind"] for i in first["items"]]
    assert kinds == ["intro", "priority", "normal", "outro"]
    assert [i["notice_id"] for i in first["items"][1:3]] == [urgent["id"], chosen["id"]]
    assert first["duration_ms"] <= 45 * 60_000
    segment = first["segments"][0]
    assert segment["duration_ms"] == first["duration_ms"]
    # The device downloads the programme over HTTP and checks it against the signed manifest.
    item = audio.media_by_id(segment["media_id"])
    r = await client.get(item.url.replace("http://127.0.0.1:8000", ""))
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    verify_media(item, r.content)
    # Weekend: no sessions on Saturday or Sunday (3 and 4 January).
    assert not any(e["starts_at"].startswith(("2026-01-03", "2026-01-04")) for e in audio.entries)

    # The whole-commune group does not get the village meeting on the board? It does: the village
    # lies inside the commune. The board's slides are laid out for each of its sizes.
    slides = [e for e in board.entries if not e["default"]]
    assert {s["notice_id"] for s in slides} == {urgent["id"], chosen["id"], skipped["id"]}
    layout_led, layout_hd = slides[0]["layouts"]
    assert (
        layout_led["mode"] == "scroll"
        and layout_hd["mode"] == "pages"
        and layout_hd["title_px"] > layout_led["font_px"]
    )
    assert [e["default"] for e in board.entries][-1] is True

    # The broadcast log knows what is planned.
    assert await PlannedSession.count().where(PlannedSession.group_id == uuid.UUID(village["id"])) == len(
        audio.entries
    )

    # Rebuilding with nothing new issues nothing new.
    r = await client.patch(
        f"{BASE}/groups/{village['id']}", json={"row_version": 1, "near_border": True}, headers=leader.headers
    )
    assert r.status_code == 200
    await drain(client)
    again = [v.verify(e, clock.now()) for e in await broadcast.current_manifests(app_rt, village["id"])]
    assert [m.version for m in again] == [1, 1]

    # Withdrawing the priority notice re-issues both manifests without it.
    r = await client.post(
        f"/api/v1/notices/{urgent['id']}/withdraw", json={"reason": "hoãn"}, headers=leader.headers
    )
    assert r.status_code in (200, 201), r.text
    await drain(client)
    audio2, board2 = [
        v.verify(e, clock.now()) for e in await broadcast.current_manifests(app_rt, village["id"])
    ]
    assert audio2.version == 2 and payload_notices(audio2) == {chosen["id"]}
    assert board2.version == 2 and urgent["id"] not in payload_notices(board2)


async def test_a_full_session_moves_notices_and_the_conflicts_view_says_so(client, factory, app_rt, clock):
    await factory.tree()
    leader, st = await station(client, factory, "38002", setting="urban")
    rules = {**st["rules"], "max_minutes": 1, "intro_text": "Mở đầu.", "outro_text": "Kết thúc."}
    r = await client.patch(
        f"{BASE}/stations/{st['id']}", json={"row_version": 1, "rules": rules}, headers=leader.headers
    )
    assert r.status_code == 200
    body = " ".join(["Thông báo về việc tổ chức tiêm chủng cho trẻ em dưới năm tuổi."] * 6)
    notices = [
        await publish(
            client,
            leader,
            priority="priority",
            target_areas=["38002"],
            texts={"vi": {"title": f"Tin {i}", "body": body}},
        )
        for i in range(3)
    ]
    await drain(client)
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=leader.headers)).json()
    assert conflicts["compiled_at"] is not None
    moved = {m["key"] for m in conflicts["moved"]}
    assert moved and moved <= {f"n:{n['thread_id']}" for n in notices}
    v = await verifier(client)
    audio = v.verify((await broadcast.current_manifests(app_rt, st["default_group_id"]))[0], clock.now())
    assert all(e["duration_ms"] <= 60_000 for e in audio.entries)

    # The commune puts the last notice first.
    last = notices[-1]
    r = await client.put(
        f"{BASE}/stations/{st['id']}/programme/order",
        json={"thread_ids": [last["thread_id"]]},
        headers=leader.headers,
    )
    assert r.status_code == 200, r.text
    await drain(client)
    audio = v.verify((await broadcast.current_manifests(app_rt, st["default_group_id"]))[0], clock.now())
    first_item = next(i for i in audio.entries[0]["items"] if i["kind"] == "priority")
    assert first_item["notice_id"] == last["id"]
