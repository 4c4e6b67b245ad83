"""An existing Open311 client, unchanged: the ``georeport`` package (GeoReport v2 wrapper over
``requests``) against a real HTTP server, in JSON and XML, plus a classic form-encoded POST."""

import asyncio
import os
import subprocess
import sys
import time

import pytest
import requests
from georeport import GeoReport

from backend.adapters.broker import free_port
from backend.citizen.feedback import open311


@pytest.fixture
def live_root(client, settings, tmp_path):
    """The same database served by a separate ``keng serve`` process over real HTTP.

    A separate process, not a thread: Piccolo binds tables to one engine per process."""
    port = free_port()
    env = {
        **os.environ,
        "KENG_DATA_DIR": str(tmp_path / "live"),
        "KENG_DATABASE_URL": settings.effective_database_url,
        "KENG_MQTT_URL": settings.mqtt_url,
        "KENG_MQTT_PORT": "0",
        "KENG_PORT": str(port),
        "KENG_RUN_WORKERS": "0",
        "KENG_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                break
            try:
                if requests.get(f"{root}/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else "server exited"
        yield f"{root}/open311/v2"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _post(root, key, **fields):
    body = {
        "api_key": key,
        "jurisdiction_id": "38",
        "service_code": "health",
        "lat": "19.80",
        "long": "105.78",
        "description": "Ổ dịch sốt xuất huyết, cần phun thuốc.",
        **fields,
    }
    response = requests.post(f"{root}/requests.json", data=body, timeout=30)
    response.raise_for_status()
    return response.json()[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_client_works_unchanged(client, factory, app_rt, live_root, fmt):
    await factory.tree()
    key = await open311.create_key(app_rt, "georeport")
    created = await asyncio.to_thread(_post, live_root, key, address_id="38002")
    other = await asyncio.to_thread(_post, live_root, key, service_code="environment")
    api = GeoReport(live_root, jurisdiction="38", api_key=key, output_format=fmt)

    services = await asyncio.to_thread(api.get_service_list)
    assert "health" in [s["service_code"] for s in services]
    definition = await asyncio.to_thread(api.get_service_definition, "health")
    attributes = definition["attributes"]
    attributes = attributes["attribute"] if fmt == "xml" else attributes
    assert [a["code"] for a in attributes] == ["area_code", "anonymous"]

    every = await asyncio.to_thread(api.get_service_requests)
    assert {r["service_request_id"] for r in every} == {
        created["service_request_id"],
        other["service_request_id"],
    }
    only_health = await asyncio.to_thread(api.get_service_requests, service_code="health", status="open")
    only_health = [only_health] if isinstance(only_health, dict) else only_health  # xmltodict: one → dict
    assert [r["service_request_id"] for r in only_health] == [created["service_request_id"]]
    one = await asyncio.to_thread(api.get_service_request, created["service_request_id"])
    assert one["service_code"] == "health" and one["status"] == "open" and one["address_id"] == "38002"
    assert one["requested_datetime"].endswith("+07:00")


async def test_plain_requests_client_sees_spec_errors(client, live_root):
    missing_key = await asyncio.to_thread(
        requests.post, f"{live_root}/requests.json", data={"service_code": "health"}, timeout=30
    )
    assert missing_key.status_code == 403
    assert missing_key.json()[0]["code"] == 403
    unknown = await asyncio.to_thread(requests.get, f"{live_root}/services/nope.xml", timeout=30)
    assert unknown.status_code == 404 and b"<errors><error><code>404</code>" in unknown.content
