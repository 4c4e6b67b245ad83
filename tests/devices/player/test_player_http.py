"""The player's sign-in and data over HTTP: Basic once, then a signed board cookie that dies with
the credential it came from; manifests with an ETag; proof of play with the cookie."""

from __future__ import annotations

import uuid

import httpx

from backend.broadcast.eboard import build_eboard
from backend.core.accounts.permissions import Role
from mobile_client_py.device import provision
from tests.broadcast.support import station


async def test_cookie_session_etag_proof_and_revocation(client, factory, app_rt):
    await factory.tree()
    leader, st = await station(client, factory, "38001")
    (board,), _ = await provision(client, leader.headers, count=1, area_codes=["38001-01"], kind="eboard")
    await build_eboard(app_rt, uuid.UUID(st["id"]))
    base = f"/boards/{board.device_id}"
    page = await client.get(f"{base}/player", auth=httpx.BasicAuth(board.device_id, board.password))
    assert page.status_code == 200 and board.device_id in page.text
    value = page.cookies["keng_board"]
    assert f"Path={base}/" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    jar = {"Cookie": f"keng_board={value}"}
    client.cookies.clear()  # every request below says which cookie it carries

    first = await client.get(f"{base}/manifest", headers=jar)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["eboard"]["kid"] and body["emergencies"] == [] and first.headers["etag"] == body["etag"]
    again = await client.get(f"{base}/manifest", headers={**jar, "If-None-Match": body["etag"]})
    assert again.status_code == 304

    report = {
        "report_id": "slide-1",
        "item_id": "default:0",
        "started_at": "2026-01-01T08:00:00Z",
        "ended_at": "2026-01-01T08:00:06Z",
        "result": "played",
    }
    r = await client.post(f"{base}/proof", json={"reports": [report]}, headers=jar)
    assert r.json() == {"recorded": 1, "duplicates": 0}

    forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    other = str(uuid.uuid4())
    for headers, url, status in [
        ({}, f"{base}/manifest", 401),
        ({"Cookie": f"keng_board={forged}"}, f"{base}/manifest", 401),
        ({"Cookie": "keng_board=nonsense"}, f"{base}/manifest", 401),
        (jar, f"/boards/{other}/manifest", 403),
    ]:
        r = await client.get(url, headers=headers)
        assert r.status_code == status, (headers, url, r.text)
    # A new password revokes the old one, and with it every board cookie issued under it.
    admin = await factory.user((Role.ADMIN, "VN"))
    rotated = await client.post(f"/api/v1/devices/{board.device_id}/credentials", headers=admin.headers)
    assert rotated.status_code in (200, 201), rotated.text
    assert (await client.get(f"{base}/manifest", headers=jar)).status_code == 401
