"""Open311 GeoReport v2: discovery, services, requests (form POST with api_key, GET with every
filter, single request, tokens), JSON and XML, and every error in the spec's own shape."""

import uuid
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from backend.citizen.feedback import handling, open311
from backend.citizen.feedback.tables import Feedback
from backend.core.accounts.permissions import Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from tests.citizen.feedback.helpers import JPEG, PDF, citizen, counts, report

V2 = "/open311/v2"


@pytest.fixture
async def api_key(app_rt):
    return await open311.create_key(app_rt, "Ứng dụng Open311 thử nghiệm")


def form(key, **change):
    body = {
        "api_key": key,
        "service_code": "environment",
        "lat": "19.8075",
        "long": "105.7764",
        "address_string": "Số 1 đường Lê Lợi",
        "description": "Cống thoát nước bị tắc, nước tràn ra đường.",
    }
    body.update(change)
    return {k: v for k, v in body.items() if v is not None}


async def _create(client, key, fmt="json", **change):
    response = await client.post(f"{V2}/requests.{fmt}", data=form(key, **change))
    assert response.status_code == 200, response.text
    return response


def _error(response, status):
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        error = root.find("error")
        assert error.findtext("code") == str(status)
        return error.findtext("description")
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status
    return body[0]["description"]


async def test_discovery(client):
    body = (await client.get(f"{V2}/discovery.json")).json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    xml = await client.get(f"{V2}/discovery.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


async def test_services_are_the_categories(client):
    services = (await client.get(f"{V2}/services.json")).json()
    codes = [s["service_code"] for s in services]
    assert "environment" in codes and all(isinstance(c, str) for c in codes)
    health = next(s for s in services if s["service_code"] == "health")
    assert health["service_name"] == "Y tế, dịch bệnh" and health["metadata"] is True
    assert health["type"] == "realtime"
    root = ET.fromstring((await client.get(f"{V2}/services.xml")).content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    definition = (await client.get(f"{V2}/services/health.json")).json()
    assert definition["service_code"] == "health"
    assert [a["code"] for a in definition["attributes"]] == ["area_code", "anonymous"]
    assert [v["key"] for v in definition["attributes"][1]["values"]] == ["true", "false"]
    xml = ET.fromstring((await client.get(f"{V2}/services/health.xml")).content)
    assert xml.tag == "service_definition"
    assert [a.findtext("code") for a in xml.iter("attribute")] == ["area_code", "anonymous"]
    assert [v.findtext("key") for v in xml.iter("value")] == ["true", "false"]
    assert "no_such" in _error(await client.get(f"{V2}/services/no_such.json"), 404)
    _error(await client.get(f"{V2}/services/health.csv"), 404)
    _error(await client.get(f"{V2}/services.json", params={"jurisdiction_id": "99"}), 404)
    assert (await client.get(f"{V2}/services.json", params={"jurisdiction_id": "38"})).status_code == 200


async def test_create_read_and_token(client, factory, api_key):
    await factory.tree()
    created = (await _create(client, api_key, address_id="38001", **{"attribute[anonymous]": "true"})).json()
    assert len(created) == 1 and set(created[0]) >= {"service_request_id", "token"}
    request_id, token = created[0]["service_request_id"], created[0]["token"]
    one = (await client.get(f"{V2}/requests/{request_id}.json")).json()
    assert len(one) == 1
    item = one[0]
    assert item["service_request_id"] == request_id and item["status"] == "open"
    assert item["service_code"] == "environment" and item["service_name"] == "Tài nguyên, môi trường"
    assert item["description"].startswith("Cống thoát nước")
    assert item["lat"] == pytest.approx(19.8075) and item["long"] == pytest.approx(105.7764)
    assert item["address"] == "Số 1 đường Lê Lợi" and item["address_id"] == "38001"
    assert item["agency_responsible"] == "Xã Hoằng Hóa"
    assert item["requested_datetime"].endswith("+07:00")
    assert (await client.get(f"{V2}/tokens/{token}.json")).json() == [
        {"service_request_id": request_id, "token": token}
    ]
    xml = ET.fromstring((await client.get(f"{V2}/tokens/{token}.xml")).content)
    assert xml.tag == "service_requests" and xml.find("request").findtext("service_request_id") == request_id
    created_xml = await _create(client, api_key, fmt="xml")
    root = ET.fromstring(created_xml.content)
    assert root.tag == "service_requests" and root.find("request").findtext("token")
    single = ET.fromstring((await client.get(f"{V2}/requests/{request_id}.xml")).content)
    assert single.find("request").findtext("status") == "open"
    assert single.find("request").find("zipcode").text is None  # empty element, as the spec shows
    _error(await client.get(f"{V2}/requests/{uuid.uuid4()}.json"), 404)
    _error(await client.get(f"{V2}/requests/not-an-id.xml"), 404)
    _error(await client.get(f"{V2}/tokens/nope.json"), 404)


async def test_multipart_media_photo(client, api_key):
    response = await client.post(
        f"{V2}/requests.json", data=form(api_key), files=[("media", ("a.jpg", JPEG))]
    )
    assert response.status_code == 200, response.text
    assert await counts() == (1, 1, 1)
    bad = await client.post(f"{V2}/requests.json", data=form(api_key), files=[("media", ("b.jpg", PDF))])
    assert "media" in _error(bad, 400)
    assert await counts() == (1, 1, 1)


async def test_contact_details_never_leave(client, api_key):
    contact = {"email": "an@example.vn", "first_name": "An", "last_name": "Nguyễn", "phone": "0912345678"}
    named = (await _create(client, api_key, device_id="dev-1", **contact)).json()[0]
    anonymous = (await _create(client, api_key, **contact, **{"attribute[anonymous]": "true"})).json()[0]
    rows = {str(r["id"]): r for r in await Feedback.select()}
    assert rows[named["service_request_id"]]["anonymous"] is False
    assert rows[anonymous["service_request_id"]]["anonymous"] is True
    stored = rows[anonymous["service_request_id"]]["contact"]
    assert stored in ({}, "{}")
    for fmt in ("json", "xml"):
        text = (await client.get(f"{V2}/requests.{fmt}")).text
        for secret in (*contact.values(), "dev-1"):
            assert secret not in text


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"service_code": None}, "service_code is required"),
        ({"service_code": "potholes"}, "potholes"),
        ({"lat": None, "long": None, "address_string": None}, "location is required"),
        ({"lat": "abc"}, "lat must be a decimal number"),
        ({"long": "200"}, "long must be between"),
        ({"long": None}, "lat and long"),
        ({"description": "x" * 4001}, "4000"),
        ({"address_id": "99999"}, "address_id"),
        ({"attribute[color]": "red"}, "color"),
        ({"attribute[anonymous]": "maybe"}, "anonymous"),
        ({"attribute[area_code]": "38002", "address_id": "38001"}, "different areas"),
        ({"media_url": "ftp://x"}, "media_url"),
        ({"jurisdiction_id": "01"}, "jurisdiction_id"),
    ],
)
async def test_malformed_forms_get_400_and_change_nothing(client, factory, api_key, change, needle):
    await factory.tree()
    status = 404 if "jurisdiction_id" in change else 400
    for fmt in ("json", "xml"):
        response = await client.post(f"{V2}/requests.{fmt}", data=form(api_key, **change))
        assert needle in _error(response, status)
    assert await counts() == (0, 0, 0)


async def test_api_key_errors_are_403(client, app_rt, api_key):
    _error(await client.post(f"{V2}/requests.json", data=form(None)), 403)
    assert "invalid api_key" in _error(await client.post(f"{V2}/requests.xml", data=form("wrong-key")), 403)
    await open311.revoke_key(app_rt, "Ứng dụng Open311 thử nghiệm")
    _error(await client.post(f"{V2}/requests.json", data=form(api_key)), 403)
    assert await counts() == (0, 0, 0)


async def test_wrong_body_type_and_unknown_resources(client, api_key):
    assert "x-www-form-urlencoded" in _error(
        await client.post(f"{V2}/requests.json", json=form(api_key)), 400
    )
    _error(await client.get(f"{V2}/nothing.json"), 404)
    _error(await client.post(f"{V2}/nothing.xml", data=form(api_key)), 404)
    _error(await client.get(f"{V2}/requests.csv"), 404)
    assert await counts() == (0, 0, 0)


async def test_get_requests_filters(client, factory, app_rt, api_key):
    await factory.tree()
    ids = {}
    for name, code in [
        ("env", "environment"),
        ("health", "health"),
        ("old", "health"),
        ("closed", "environment"),
    ]:
        ids[name] = (await _create(client, api_key, service_code=code, address_id="38001")).json()[0][
            "service_request_id"
        ]
    now = app_rt.clock.now()
    await Feedback.update({Feedback.created_at: now - timedelta(days=120)}).where(
        Feedback.id == uuid.UUID(ids["old"])
    )
    handler = await factory.user((Role.FEEDBACK_HANDLER, "38"))
    actor = await actor_for_account(app_rt, handler.id, ClientInfo(addr="", request_id=""))
    await handling.answer(app_rt, actor, uuid.UUID(ids["closed"]), "Đã thông cống.")

    async def found(**params):
        response = await client.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return {r["service_request_id"] for r in response.json()}

    assert await found() == {ids["env"], ids["health"], ids["closed"]}
    assert await found(service_code="health") == {ids["health"]}
    assert await found(service_code="health,environment") == {ids["env"], ids["health"], ids["closed"]}
    assert await found(status="closed") == {ids["closed"]}
    assert await found(status="open") == {ids["env"], ids["health"]}
    assert await found(status="open,closed") == {ids["env"], ids["health"], ids["closed"]}
    assert await found(service_request_id=f"{ids['old']},{ids['env']}") == {ids["old"], ids["env"]}
    old_start = (now - timedelta(days=121)).isoformat()
    old_end = (now - timedelta(days=119)).isoformat()
    assert await found(start_date=old_start, end_date=old_end) == {ids["old"]}
    assert await found(start_date=old_start) == {ids["old"]}
    assert await found(end_date=old_end) == {ids["old"]}
    closed = (await client.get(f"{V2}/requests.json", params={"status": "closed"})).json()[0]
    assert closed["status_notes"] == "Đã thông cống."
    xml = ET.fromstring((await client.get(f"{V2}/requests.xml", params={"service_code": "health"})).content)
    assert [r.findtext("service_request_id") for r in xml.findall("request")] == [ids["health"]]
    too_long = {"start_date": (now - timedelta(days=100)).isoformat(), "end_date": now.isoformat()}
    assert "90 days" in _error(await client.get(f"{V2}/requests.json", params=too_long), 400)
    backwards = {"start_date": now.isoformat(), "end_date": (now - timedelta(days=1)).isoformat()}
    assert "before" in _error(await client.get(f"{V2}/requests.xml", params=backwards), 400)
    assert "ISO 8601" in _error(
        await client.get(f"{V2}/requests.json", params={"start_date": "yesterday"}), 400
    )
    assert "open or closed" in _error(
        await client.get(f"{V2}/requests.json", params={"status": "fixed"}), 400
    )
    assert "not a valid id" in _error(
        await client.get(f"{V2}/requests.json", params={"service_request_id": "12,x"}), 400
    )


async def test_app_reports_appear_without_the_reporter(client, factory):
    await factory.tree()
    headers, account = await citizen(client, "phone-open311-visible")
    submitted = await client.post("/api/v1/citizen/feedback", json=report(), headers=headers)
    assert submitted.status_code == 201
    listed = await client.get(f"{V2}/requests.json")
    assert [r["service_request_id"] for r in listed.json()] == [submitted.json()["id"]]
    assert account not in listed.text and "phone-open311-visible" not in listed.text
    assert submitted.json()["client_id"] not in listed.text
