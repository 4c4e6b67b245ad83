"""The HTTP fallback's manifests and acknowledgements: a device that cannot keep an MQTT connection
fetches the signed manifests in force for its place (an unchanged poll is a 304), verifies them as
on MQTT, and acknowledges them so staff see it in the emergency's acknowledgements."""

from __future__ import annotations

import uuid

import httpx
import msgspec
import pytest

from backend.adapters.clock import FakeClock
from backend.broadcast.tables import Manifest
from backend.devices.proof.tables import ManifestAck
from mobile_client_py.device import provision
from tests.broadcast.support import drain, publish, station, verifier

URL = "/api/v1/device"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_polling_device_gets_its_manifests_and_acknowledges_them(client, factory, clock):
    await factory.tree()
    leader, _ = await station(client, factory, "38001")
    await station(client, factory, "38002")
    (near,), _ = await provision(client, leader.headers, count=1, area_codes=["38001-01"])
    far_leader = await factory.user(("commune_leader", "38002"))
    (far,), _ = await provision(client, far_leader.headers, count=1, area_codes=["38002"])
    auth = httpx.BasicAuth(near.device_id, near.password)
    notice = await publish(
        client, leader, emergency=True, priority="emergency", category="disaster", target_areas=["38001"]
    )
    await drain(client)

    r = await client.get(f"{URL}/manifests", auth=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    emergency = await Manifest.select().where(Manifest.kind == "emergency").first()
    assert body["emergencies"] == [msgspec.json.decode(emergency["envelope"])]
    held = (await verifier(client)).verify(msgspec.json.encode(body["emergencies"][0]), clock.now())
    assert (held.kind, held.manifest_id) == ("emergency", str(emergency["id"]))
    device = (await client.get(f"/api/v1/devices/{near.device_id}", headers=leader.headers)).json()
    current = await Manifest.select(Manifest.kind, Manifest.envelope).where(
        (Manifest.group_id == uuid.UUID(device["group_id"])) & (Manifest.current == True)  # noqa: E712 (SQL)
    )
    assert body["group"] == {m["kind"]: msgspec.json.decode(m["envelope"]) for m in current}
    assert set(body["group"]) == {"audio", "eboard"}
    assert r.headers["etag"] == body["etag"]
    unchanged = await client.get(f"{URL}/manifests", auth=auth, headers={"If-None-Match": body["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    elsewhere = (
        await client.get(f"{URL}/manifests", auth=httpx.BasicAuth(far.device_id, far.password))
    ).json()
    assert elsewhere["emergencies"] == []
    assert (await client.get(f"{URL}/manifests")).status_code == 401

    ack = {"manifest_id": held.manifest_id, "result": "accepted", "at": clock.now().isoformat()}
    r = await client.post(f"{URL}/acks", json={"acks": [ack]}, auth=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"recorded": 1, "duplicates": 0}
    again = await client.post(f"{URL}/acks", json={"acks": [ack]}, auth=auth)
    assert again.json() == {"recorded": 0, "duplicates": 1}
    listed = (
        await client.get(f"/api/v1/notices/{notice['id']}/emergency-acks", headers=leader.headers)
    ).json()
    assert [(d["device_id"], d["status"]) for d in listed["devices"]] == [(near.device_id, "accepted")]

    for payload, creds, status in [
        ({"acks": [ack]}, None, 401),
        ({"acks": [ack]}, httpx.BasicAuth(near.device_id, "wrong"), 401),
        ({"acks": [{**ack, "result": "maybe"}]}, auth, 400),
        ({"acks": []}, auth, 400),
    ]:
        r = await client.post(f"{URL}/acks", json=payload, auth=creds)
        assert r.status_code == status, (payload, r.text)
    assert await ManifestAck.count() == 1
