"""The HTTP contract every endpoint shares: error envelope, request ids, statuses, guards."""

import json

import pytest

from backend.cli import openapi_document

PUBLIC_OPERATIONS = {
    "health",
    "ready",
    "login",
    "refreshToken",
    "logout",
    "registerCitizen",
    "listAreas",
    "getArea",
    "listAreaChildren",
    "listAreaAncestors",
    "listCategories",
    "getVapidPublicKey",
    "getCapAlert",
    "getCapAtomIndex",
    # Devices verify manifests with the province's public keys and download media by hash.
    "listProvinceKeys",
    "getBroadcastMedia",
    # Open311 GeoReport v2 is public to read; creating needs an api_key (403 without), not a token.
    "open311DiscoveryJson",
    "open311DiscoveryXml",
    "open311ServicesJson",
    "open311ServicesXml",
    "open311ServiceDefinition",
    "open311GetRequestsJson",
    "open311GetRequestsXml",
    "open311GetRequest",
    "open311GetToken",
    "open311CreateRequestJson",
    "open311CreateRequestXml",
    # The SMS gateway authenticates its receipts with a shared token (403 without), not a login.
    "postSmsReceipt",
    # Commune websites read published notices without logging in.
    "getAreaRss",
    "getAreaAtom",
    "getAreaJsonFeed",
    "getAreaWidget",
    "getPublicNoticePage",
    # Downstream instances: published notices are public; reports are checked by their signature.
    "federationNotices",
    "federationReport",
    # A device trades a one-time claim code (403 when wrong) for its credentials: it has no login yet.
    "claimDevice",
    # The e-board player's script and service worker hold nothing secret (the page and data do).
    "getBoardPlayerScript",
    "getBoardServiceWorker",
}


def _operations():
    document = json.loads(openapi_document())
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op["operationId"]


async def test_error_envelope_and_request_id(client):
    response = await client.get("/api/v1/notices", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "trace-123"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"] == "Cần đăng nhập."


async def test_messages_follow_accept_language(client):
    response = await client.get("/api/v1/notices", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.json()["error"]["message"] == "Authentication required."


async def test_request_id_generated_when_absent(client):
    response = await client.get("/health")
    assert len(response.headers["x-request-id"]) == 32


async def test_unknown_route_is_json_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_json_405(client):
    response = await client.delete("/api/v1/categories")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_malformed_json_is_400_and_names_nothing_internal(client):
    response = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"] == "Yêu cầu không hợp lệ."
    assert "Traceback" not in response.text


async def test_unknown_field_is_rejected(client):
    response = await client.post(
        "/api/v1/auth/login", json={"username": "a", "password": "b", "pasword": "c"}
    )
    assert response.status_code == 400
    assert "pasword" in json.dumps(response.json()["error"]["details"])


PRIVATE = [op for op in _operations() if op[2] not in PUBLIC_OPERATIONS]


@pytest.mark.parametrize(("method", "path", "operation_id"), PRIVATE, ids=[op[2] for op in PRIVATE])
async def test_every_private_endpoint_requires_a_token(client, method, path, operation_id):
    concrete = (
        path.replace("{notice_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{account_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{grant_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{registration_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{feedback_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{unit_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{rule_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{template_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{station_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{group_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{item_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{upstream_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{material_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{code}", "38")
        .replace("{conflict_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{sha256}", "0" * 64)
        .replace("{device_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{alarm_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{command_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{notification_id}", "0")
    )
    response = await client.request(method, concrete, json={} if method in {"POST", "PUT", "PATCH"} else None)
    assert response.status_code == 401, f"{method} {path} answered {response.status_code} without a token"


def test_public_operations_are_exactly_the_intended_ones():
    ids = {op for _, _, op in _operations()}
    assert ids >= PUBLIC_OPERATIONS


async def test_internal_errors_hide_details(client, monkeypatch):
    from backend.core.categories import services

    async def broken(*args, **kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(services, "list_categories", broken)
    response = await client.get("/api/v1/categories")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret" not in response.text
    assert response.json()["error"]["details"]["request_id"] == response.headers["x-request-id"]
