"""The broadcast log: officials' manual entries (idempotent, audited, permission-checked) next to
devices' proof of play, read back as planned versus played."""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend import broadcast
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry

BASE = "/api/v1/broadcast"


async def test_manual_entries_and_device_reports_make_the_log(client, factory, app_rt):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    station = (
        await client.post(f"{BASE}/stations", json={"area_code": "38001"}, headers=leader.headers)
    ).json()
    now = app_rt.clock.now()
    notice = uuid.uuid4()
    entry = {
        "client_id": "phone-1:0001",
        "started_at": (now - timedelta(minutes=30)).isoformat(),
        "ended_at": (now - timedelta(minutes=10)).isoformat(),
        "group_id": station["default_group_id"],
        "notice_ids": [str(notice)],
        "clusters": ["Cụm loa thôn Đông", "Cụm loa chợ"],
        "detail": "Phát tay do mất mạng",
    }
    url = f"{BASE}/stations/{station['id']}/log"
    assert (await client.post(url, json=entry, headers=editor.headers)).status_code == 403
    r = await client.post(url, json=entry, headers=official.headers)
    assert r.status_code == 201 and r.json() == {"recorded": 2, "duplicates": 0}
    r = await client.post(url, json=entry, headers=official.headers)
    assert r.json() == {"recorded": 0, "duplicates": 2}
    bad = {**entry, "client_id": "phone-1:0002", "ended_at": (now - timedelta(hours=1)).isoformat()}
    assert (await client.post(url, json=bad, headers=official.headers)).status_code == 422
    assert await AuditEntry.count().where(AuditEntry.action == "broadcast.log_manual") == 1

    await broadcast.record_play(
        app_rt,
        broadcast.PlayReport(
            device_id="loa-7",
            group_id=uuid.UUID(station["default_group_id"]),
            report_id="p-1",
            manifest_id=None,
            item_id="x",
            notice_id=notice,
            media_sha256="",
            started_at=now - timedelta(minutes=20),
            ended_at=now - timedelta(minutes=19),
            result="played",
        ),
    )
    params = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
    log = (await client.get(url, params=params, headers=official.headers)).json()
    assert log["sessions"] == []
    assert sorted((p["device_id"], p["source"]) for p in log["unplanned"]) == [
        ("loa-7", "device"),
        ("manual:Cụm loa chợ", "manual"),
        ("manual:Cụm loa thôn Đông", "manual"),
    ]
    # Manual entries count as broadcast for the report, but are no device's proof of play.
    assert await broadcast.played_devices(app_rt, notice) == {"loa-7"}
    assert (await broadcast.broadcast_notices(app_rt, [notice]))["mqtt"] == {notice}
