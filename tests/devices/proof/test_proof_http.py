"""Proof of play over the HTTP fallback: the device's own credentials, idempotent reports, bad
input refused whole, and the notice's coverage (targeted clusters and boards versus confirmed) in
its own view and in the notice's delivery statistics."""

from __future__ import annotations

import uuid

import httpx

from backend.broadcast.tables import PlayRecord
from backend.core.accounts.permissions import Role
from mobile_client_py.device import provision
from tests.broadcast.support import publish, station


def proof(report_id: str, notice_id: str | None, **extra) -> dict:
    return {
        "schema": 1,
        "report_id": report_id,
        "item_id": f"slide:{report_id}",
        "notice_id": notice_id,
        "started_at": "2026-01-01T08:00:00Z",
        "ended_at": "2026-01-01T08:00:30Z",
        "result": "played",
        **extra,
    }


async def test_http_proof_is_idempotent_checked_and_counts_in_coverage(client, factory, app_rt):
    await factory.tree()
    leader, st = await station(client, factory, "38001")
    notice = await publish(client, leader, target_areas=["38001-01"])
    clusters, _ = await provision(client, leader.headers, count=2, area_codes=["38001-01"])
    boards, _ = await provision(client, leader.headers, count=1, area_codes=["38001-01"], kind="eboard")
    await provision(client, leader.headers, count=1, area_codes=["38001-02"])  # not targeted
    a, b = clusters
    url = "/api/v1/device/proof"
    auth = httpx.BasicAuth(a.device_id, a.password)
    body = {"reports": [proof("r-1", notice["id"])]}
    r = await client.post(url, json=body, auth=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"recorded": 1, "duplicates": 0}
    r = await client.post(url, json=body, auth=auth)
    assert r.json() == {"recorded": 0, "duplicates": 1}
    row = await PlayRecord.select().where(PlayRecord.device_id == a.device_id).first()
    # The device's group fills in, so the play lands in its station's log.
    assert (str(row["station_id"]), row["source"], row["result"]) == (st["id"], "device", "played")

    refused = [
        (httpx.BasicAuth(a.device_id, "wrong"), url, body, 401),
        (None, url, body, 401),
        (
            auth,
            url,
            {"reports": [proof("r-2", notice["id"]), proof("r-3", None, ended_at="2026-01-01T07:00:00Z")]},
            422,
        ),
        (auth, url, {"reports": [proof("r-4", None, result="exploded")]}, 400),
        (auth, url, {"reports": []}, 400),
    ]
    for creds, where, payload, status in refused:
        r = await client.post(where, json=payload, auth=creds)
        assert r.status_code == status, (where, payload, r.text)
    assert await PlayRecord.count().where(PlayRecord.source == "device") == 1  # nothing else stored
    r = await client.post(url, json={"reports": [proof("r-2", notice["id"])]}, auth=auth)
    assert r.status_code == 200

    board = boards[0]
    r = await client.post(
        url,
        json={"reports": [proof("s-1", notice["id"], result="failed")]},
        auth=httpx.BasicAuth(board.device_id, board.password),
    )
    assert r.json() == {"recorded": 1, "duplicates": 0}

    r = await client.get(f"/api/v1/notices/{notice['id']}/device-coverage", headers=leader.headers)
    assert r.status_code == 200, r.text
    coverage = r.json()
    assert coverage["clusters"] == {"targeted": 2, "confirmed": 1, "missing": [b.device_id]}
    assert coverage["boards"] == {"targeted": 1, "confirmed": 0, "missing": [board.device_id]}
    assert coverage["ratio"] == round(1 / 3, 4)
    stats = await client.get(f"/api/v1/notices/{notice['id']}/delivery-stats", headers=leader.headers)
    assert stats.status_code == 200, stats.text
    assert stats.json()["devices"] == coverage

    # Staff of another commune see none of these devices; a citizen may not look at all.
    other = await factory.user((Role.COMMUNE_LEADER, "38002"))
    r = await client.get(f"/api/v1/notices/{notice['id']}/device-coverage", headers=other.headers)
    assert r.json()["clusters"]["targeted"] == 0
    citizen = await factory.user((Role.CITIZEN, "38001"), kind="citizen")
    r = await client.get(f"/api/v1/notices/{notice['id']}/device-coverage", headers=citizen.headers)
    assert r.status_code == 403
    r = await client.get(f"/api/v1/notices/{uuid.uuid4()}/device-coverage", headers=leader.headers)
    assert r.status_code == 404
