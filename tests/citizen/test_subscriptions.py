"""Citizens follow areas; who receives a notice follows the area tree and category choices."""

from backend.citizen.subscriptions import services as subscriptions
from backend.core.accounts.permissions import Role


async def _citizen(client, device="android-phone-0001"):
    pair = (await client.post("/api/v1/citizens/register", json={"device_id": device})).json()
    return {"Authorization": f"Bearer {pair['access_token']}"}, pair["account_id"]


async def test_citizen_replaces_and_reads_subscriptions(client, factory):
    await factory.tree()
    headers, _ = await _citizen(client)
    response = await client.put(
        "/api/v1/citizen/subscriptions",
        json={"areas": ["38001-01", "40001"], "categories": ["health"]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [a["code"] for a in body["areas"]] == ["38001-01", "40001"]
    assert body["areas"][0]["name"] == "Thôn Đông"
    assert body["categories"] == ["health"]
    again = await client.put("/api/v1/citizen/subscriptions", json={"areas": ["38002"]}, headers=headers)
    assert [a["code"] for a in again.json()["areas"]] == ["38002"]
    assert (await client.get("/api/v1/citizen/subscriptions", headers=headers)).json() == again.json()


async def test_bad_subscriptions_change_nothing(client, factory):
    await factory.tree()
    headers, _ = await _citizen(client)
    await client.put("/api/v1/citizen/subscriptions", json={"areas": ["38001"]}, headers=headers)
    unknown = await client.put("/api/v1/citizen/subscriptions", json={"areas": ["99999"]}, headers=headers)
    assert unknown.status_code == 422
    bad_category = await client.put(
        "/api/v1/citizen/subscriptions", json={"areas": ["38002"], "categories": ["x"]}, headers=headers
    )
    assert bad_category.status_code == 422
    current = (await client.get("/api/v1/citizen/subscriptions", headers=headers)).json()
    assert [a["code"] for a in current["areas"]] == ["38001"]


async def test_staff_have_no_subscriptions(client, factory):
    await factory.tree()
    staff = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.get("/api/v1/citizen/subscriptions", headers=staff.headers)).status_code == 403


async def test_who_receives_a_notice(client, factory, app_rt):
    await factory.tree()
    village_h, village = await _citizen(client, "phone-village-01")
    commune_h, commune = await _citizen(client, "phone-commune-01")
    other_h, _ = await _citizen(client, "phone-other-0001")
    picky_h, picky = await _citizen(client, "phone-picky-0001")
    await client.put("/api/v1/citizen/subscriptions", json={"areas": ["38001-01"]}, headers=village_h)
    await client.put("/api/v1/citizen/subscriptions", json={"areas": ["38001"]}, headers=commune_h)
    await client.put("/api/v1/citizen/subscriptions", json={"areas": ["40001"]}, headers=other_h)
    await client.put(
        "/api/v1/citizen/subscriptions",
        json={"areas": ["38001"], "categories": ["elections"]},
        headers=picky_h,
    )
    as_ids = lambda ids: sorted(str(i) for i in ids)  # noqa: E731
    province = await subscriptions.subscribers(app_rt, ["/VN/38/"], "health", "normal")
    assert as_ids(province) == sorted([village, commune])
    village_only = await subscriptions.subscribers(app_rt, ["/VN/38/38001/38001-02/"], "health", "normal")
    assert as_ids(village_only) == [commune]
    emergency = await subscriptions.subscribers(app_rt, ["/VN/38/38001/"], "disaster", "emergency")
    assert as_ids(emergency) == sorted([village, commune, picky])
    elections = await subscriptions.subscribers(app_rt, ["/VN/38/38001/"], "elections", "normal")
    assert as_ids(elections) == sorted([village, commune, picky])
