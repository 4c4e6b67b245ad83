"""Week schedules: validated against the station's rules, versioned, audited; neighbours' border
sessions that overlap are shown as conflicts."""

from __future__ import annotations

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from tests.broadcast.support import BASE, station


async def test_schedule_versions_rules_and_neighbour_conflicts(client, factory):
    await factory.tree()
    leader, st = await station(client, factory, rules={"neighbours": ["38002"]})
    other_leader, other = await station(client, factory, "38002")
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    url = f"{BASE}/stations/{st['id']}/schedule"

    current = (await client.get(url, headers=official.headers)).json()
    assert current["version"] == 1 and len(current["sessions"]) == 10
    bad = {
        "version": 1,
        "sessions": [
            {"id": "a", "day": 5, "start": "05:30", "end": "06:00"},
            {"id": "b", "day": 0, "start": "12:00", "end": "12:30"},
            {"id": "c", "day": 1, "start": "05:30", "end": "06:00", "relays": ["VOV9"]},
        ],
    }
    r = await client.put(url, json=bad, headers=official.headers)
    assert r.status_code == 422
    reasons = {d["reason"] for d in r.json()["error"]["details"]}
    assert "the station does not broadcast on this day" in reasons
    assert "outside the station's session windows" in reasons
    assert "no relay named VOV9 in the rules" in reasons

    good = {
        "version": 1,
        "note": "Bớt buổi chiều",
        "sessions": [{"id": f"m{d}", "day": d, "start": "05:30", "end": "06:15"} for d in range(5)],
    }
    r = await client.put(url, json=good, headers=official.headers)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["version"] == 2 and saved["warnings"] == []
    r = await client.put(url, json=good, headers=official.headers)
    assert r.status_code == 409 and r.json()["error"]["details"] == {"version": 2}
    versions = (await client.get(f"{url}/versions", headers=official.headers)).json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert await AuditEntry.count().where(AuditEntry.action == "schedule.save") == 1

    # The neighbour's default schedule also plays 05:30–06:15 on weekdays: five overlaps.
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=official.headers)).json()
    assert len(conflicts["neighbour_overlaps"]) == 5
    assert {c["neighbour_area_code"] for c in conflicts["neighbour_overlaps"]} == {"38002"}
    # Marking a non-border village group as the only border group moves nothing: sessions for all
    # groups include it. The neighbour moves its mornings to 06:15 and the overlaps go.
    r = await client.put(
        f"{BASE}/stations/{other['id']}/schedule",
        json={
            "version": 1,
            "sessions": [{"id": f"m{d}", "day": d, "start": "17:00", "end": "17:45"} for d in range(5)],
        },
        headers=other_leader.headers,
    )
    assert r.status_code == 200
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=official.headers)).json()
    assert conflicts["neighbour_overlaps"] == []

    # A maximum lowered under the schedule shows over-long sessions (saved with a warning too).
    rules = {**st["rules"], "max_minutes": 20}
    r = await client.patch(
        f"{BASE}/stations/{st['id']}", json={"row_version": 1, "rules": rules}, headers=leader.headers
    )
    assert r.status_code == 200
    conflicts = (await client.get(f"{BASE}/stations/{st['id']}/conflicts", headers=official.headers)).json()
    assert [(o["minutes"], o["max_minutes"]) for o in conflicts["overlong_sessions"]] == [(45, 20)] * 5
    assert (
        (await client.get(url, headers=official.headers))
        .json()["warnings"][0]["reason"]
        .startswith("45 minutes")
    )
