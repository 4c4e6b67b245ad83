"""Helpers for broadcast tests: a station over HTTP, notices through their lifecycle, the worker."""

from __future__ import annotations

from typing import Any

from backend.core.accounts.permissions import Role
from mobile_client_py.manifest import ManifestVerifier, keys_from_response
from tests.factories import notice_body

BASE = "/api/v1/broadcast"


async def station(client, factory, commune: str = "38001", **body: Any) -> tuple[Any, dict[str, Any]]:
    leader = await factory.user((Role.COMMUNE_LEADER, commune))
    r = await client.post(f"{BASE}/stations", json={"area_code": commune, **body}, headers=leader.headers)
    assert r.status_code == 201, r.text
    return leader, r.json()


async def publish(client, user, *, emergency: bool = False, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/notices", json=notice_body(**overrides), headers=user.headers)
    assert r.status_code == 201, r.text
    notice = r.json()
    steps = ["emergency-publish"] if emergency else ["submit", "approve", "publish"]
    for step in steps:
        r = await client.post(f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=user.headers)
        assert r.status_code in (200, 201), r.text
    return r.json()


async def drain(client) -> int:
    return await client.app.state.worker.drain(max_rounds=200)


async def verifier(client) -> ManifestVerifier:
    return ManifestVerifier(keys_from_response((await client.get("/api/v1/keys/province")).json()))
