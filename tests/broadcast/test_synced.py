"""Week schedules and manual log entries on officials' phones: edited and written offline, saved
through the same service rules as the web console (checked, versioned, audited), merged per field."""

from __future__ import annotations

from backend.broadcast.tables import PlayRecord, ScheduleVersion
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.lib.db import json_column
from backend.sync.tables import SyncConflict
from tests.broadcast.support import BASE, station
from tests.sync.helpers import phone


async def test_an_official_edits_the_week_schedule_offline(client, factory, tmp_path):
    await factory.tree()
    leader, made = await station(client, factory)
    station_id = made["id"]
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    elsewhere = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    a = phone(client.app, tmp_path / "a.db", official)
    c = phone(client.app, tmp_path / "c.db", elsewhere)
    await a.sync()
    await c.sync()
    assert c.rows("schedule") == {}
    week = a.rows("schedule")[station_id]
    assert week["version"] == 1 and week["area"] == "38001"

    # Offline: drop Sunday evening's session and write a note; an impossible session is refused.
    sessions = [s for s in week["sessions"] if s["id"] != "d6w1"]
    a.update("schedule", station_id, {"sessions": sessions, "note": "Chủ nhật nghỉ buổi chiều"})
    # Meanwhile the leader changes the note on the web.
    current = (await client.get(f"{BASE}/stations/{station_id}/schedule", headers=leader.headers)).json()
    saved = await client.put(
        f"{BASE}/stations/{station_id}/schedule",
        json={"version": current["version"], "sessions": current["sessions"], "note": "Lịch của lãnh đạo"},
        headers=leader.headers,
    )
    assert saved.status_code == 200, saved.text

    report = await a.sync()
    assert report.applied == 1 and report.rejected == 0
    row = (
        await ScheduleVersion.select()
        .where(ScheduleVersion.station_id == station_id)
        .order_by(ScheduleVersion.version, ascending=False)
        .first()
    )
    assert row["version"] == 3 and row["note"] == "Chủ nhật nghỉ buổi chiều"
    assert [s["id"] for s in json_column(row["sessions"], [])] == [s["id"] for s in sessions]
    [conflict] = await SyncConflict.select()
    assert (conflict["table_name"], conflict["field"], conflict["rule"]) == (
        "schedule",
        "note",
        "client_wins",
    )
    assert json_column(conflict["values"], {})["server"] == "Lịch của lãnh đạo"
    assert set(a.conflicts()) == {str(conflict["id"])}
    assert a.rows("schedule")[station_id]["version"] == 3
    [audit] = await AuditEntry.select().where(
        (AuditEntry.action == "schedule.save") & (AuditEntry.actor_id == official.id)
    )
    details = json_column(audit["details"], {})
    assert details["via"] == "sync" and details["device"] == a.device and details["version"] == 3
    # The conflicts view of the web console sees the phone's version.
    view = await client.get(f"{BASE}/stations/{station_id}/conflicts", headers=leader.headers)
    assert view.status_code == 200 and view.json()["schedule_version"] == 3

    # The same checks as the web: a session inside quiet hours is refused, the queue moves on.
    bad = [
        *sessions,
        {"id": "late", "day": 1, "start": "22:00", "end": "22:30", "group_ids": [], "relays": []},
    ]
    a.update("schedule", station_id, {"sessions": bad})
    a.update("schedule", station_id, {"note": "Ghi chú sau"})
    report = await a.sync()
    [rejected] = a.rejected()
    assert rejected["answer"]["err"]["code"] == "validation_failed"
    assert report.applied == 1 and a.rows("schedule")[station_id]["note"] == "Ghi chú sau"
    assert [s["id"] for s in a.rows("schedule")[station_id]["sessions"]] == [s["id"] for s in sessions]

    # The leader's phone receives the week as saved.
    b = phone(client.app, tmp_path / "b.db", leader)
    await b.sync()
    assert b.rows("schedule")[station_id] == a.rows("schedule")[station_id]


async def test_a_manual_log_entry_written_offline_is_stored_once_and_corrected_later(
    client, factory, tmp_path
):
    await factory.tree()
    leader, made = await station(client, factory)
    station_id = made["id"]
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    # The answer to the first sync is lost after the server stored the entry: it is sent again.
    a = phone(client.app, tmp_path / "a.db", official, plan=["ok", "drop_response"])
    b = phone(client.app, tmp_path / "b.db", leader)
    await a.sync()
    entry = a.create(
        "broadcast_log",
        {
            "station": station_id,
            "started_at": "2026-11-20T05:30:00+07:00",
            "ended_at": "2026-11-20T06:00:00+07:00",
            "result": "played",
            "clusters": ["Loa thôn Đông", "Loa chợ"],
            "detail": "Phát tay, máy tăng âm cũ",
        },
    )
    report = await a.sync()
    assert report.applied == 1 and report.retries == 1
    rows = await PlayRecord.select().where(PlayRecord.source == "manual")
    assert len(rows) == 2 and {r["device_id"] for r in rows} == {"manual:Loa thôn Đông", "manual:Loa chợ"}
    [audit] = await AuditEntry.select().where(AuditEntry.action == "broadcast.log_manual")
    assert json_column(audit["details"], {})["device"] == a.device

    await b.sync()
    held = b.rows("broadcast_log")[entry]
    assert held["clusters"] == ["Loa chợ", "Loa thôn Đông"] and held["result"] == "played"
    assert held == a.rows("broadcast_log")[entry]

    a.update("broadcast_log", entry, {"result": "failed", "detail": "Mất điện giữa buổi"})
    a.update("broadcast_log", entry, {"clusters": ["Loa khác"]})  # set when the entry was made
    await a.sync()
    [rejected] = a.rejected()
    assert rejected["answer"]["err"]["code"] == "validation_failed"
    assert {r["result"] for r in await PlayRecord.select().where(PlayRecord.source == "manual")} == {"failed"}
    await b.sync()
    assert b.rows("broadcast_log")[entry]["detail"] == "Mất điện giữa buổi"
    assert await AuditEntry.count().where(AuditEntry.action == "broadcast.log_correct") == 1
