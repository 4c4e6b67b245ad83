"""Push registration: Web Push subscriptions and FCM tokens per citizen device; bad input changes nothing."""

from __future__ import annotations

import stat

from backend.adapters.push import b64url_decode
from backend.citizen.push.tables import PushRegistration
from backend.core.accounts.permissions import Role

URL = "/api/v1/citizen/push-registrations"


async def _count() -> int:
    return await PushRegistration.count()


async def test_vapid_public_key_is_public_stable_and_kept_out_of_the_tree(client, settings):
    first = await client.get("/api/v1/push/vapid-public-key")
    assert first.status_code == 200
    key = first.json()["public_key"]
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4
    assert (await client.get("/api/v1/push/vapid-public-key")).json()["public_key"] == key
    pem = settings.effective_keys_dir / "vapid" / "private.pem"
    assert pem.exists()
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600


async def test_register_is_idempotent_and_unregister_keeps_history(client, factory, push_service):
    citizen = await factory.user(kind="citizen")
    device = push_service.device()
    body = {
        "kind": "webpush",
        "subscription": device.subscription(expirationTime=None),
        "device_id": "chrome",
    }
    created = await client.post(URL, json=body, headers=citizen.headers)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["push_service"] == push_service.origin
    assert out["device_id"] == "chrome"
    assert "keys" not in out
    again = await client.post(URL, json=body, headers=citizen.headers)
    assert again.status_code == 200
    assert again.json()["id"] == out["id"]
    assert await _count() == 1
    listed = await client.get(URL, headers=citizen.headers)
    assert [r["id"] for r in listed.json()["items"]] == [out["id"]]

    deleted = await client.delete(f"{URL}/{out['id']}", headers=citizen.headers)
    assert deleted.status_code == 204
    assert (await client.get(URL, headers=citizen.headers)).json()["items"] == []
    assert (await client.delete(f"{URL}/{out['id']}", headers=citizen.headers)).status_code == 404
    # Subscribing again on the device brings the same registration back.
    back = await client.post(URL, json=body, headers=citizen.headers)
    assert back.status_code == 200
    assert back.json()["id"] == out["id"]
    assert await _count() == 1


async def test_fcm_token_registration(client, factory):
    citizen = await factory.user(kind="citizen")
    token = "fcm-token:APA91b" + "x" * 140
    created = await client.post(URL, json={"kind": "fcm", "token": token}, headers=citizen.headers)
    assert created.status_code == 201, created.text
    assert created.json()["push_service"] == "fcm"
    bad = await client.post(URL, json={"kind": "fcm", "token": "not a token!"}, headers=citizen.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [{"field": "token", "reason": "not an FCM registration token"}]
    assert await _count() == 1


async def test_replayed_subscription_of_another_account_is_refused(client, factory, push_service):
    owner = await factory.user(kind="citizen")
    thief = await factory.user(kind="citizen")
    sub = push_service.device().subscription()
    assert (
        await client.post(URL, json={"kind": "webpush", "subscription": sub}, headers=owner.headers)
    ).status_code == 201
    replay = await client.post(URL, json={"kind": "webpush", "subscription": sub}, headers=thief.headers)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "push_endpoint_taken"
    assert replay.json()["error"]["message"].startswith("Đăng ký nhận thông báo")
    assert (await client.get(URL, headers=thief.headers)).json()["items"] == []
    assert len((await client.get(URL, headers=owner.headers)).json()["items"]) == 1
    forged = dict(sub, keys=push_service.device().subscription()["keys"])
    mismatch = await client.post(URL, json={"kind": "webpush", "subscription": forged}, headers=owner.headers)
    assert mismatch.status_code == 409
    assert mismatch.json()["error"]["code"] == "push_keys_mismatch"
    assert await _count() == 1


async def test_expired_or_gone_subscriptions_are_refused(client, factory, push_service, app_rt):
    citizen = await factory.user(kind="citizen")
    past_ms = int(app_rt.clock.now().timestamp() * 1000) - 1000
    expired = await client.post(
        URL,
        json={"kind": "webpush", "subscription": push_service.device().subscription(expirationTime=past_ms)},
        headers=citizen.headers,
    )
    assert expired.status_code == 422
    assert expired.json()["error"]["details"] == [
        {"field": "subscription.expirationTime", "reason": "the subscription has already expired"}
    ]
    sub = push_service.device().subscription()
    created = await client.post(URL, json={"kind": "webpush", "subscription": sub}, headers=citizen.headers)
    await PushRegistration.update(
        {PushRegistration.pruned_at: app_rt.clock.now(), PushRegistration.pruned_reason: "gone: HTTP 410"}
    ).where(PushRegistration.endpoint_key != "")
    replay = await client.post(URL, json={"kind": "webpush", "subscription": sub}, headers=citizen.headers)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "push_registration_gone"
    row = await PushRegistration.select().first()
    assert str(row["id"]) == created.json()["id"]
    assert row["pruned_reason"] == "gone: HTTP 410"


async def test_bad_subscriptions_get_precise_errors(client, factory, push_service):
    citizen = await factory.user(kind="citizen")
    good = push_service.device().subscription()

    async def post(body):
        return await client.post(URL, json=body, headers=citizen.headers)

    cases = [
        (
            {"kind": "webpush", "subscription": dict(good, endpoint="https://evil.example.net/push/1")},
            "subscription.endpoint",
        ),
        (
            {"kind": "webpush", "subscription": dict(good, endpoint="ftp://127.0.0.1/push")},
            "subscription.endpoint",
        ),
        (
            {
                "kind": "webpush",
                "subscription": dict(good, keys={"p256dh": "AAAA", "auth": good["keys"]["auth"]}),
            },
            "subscription.keys.p256dh",
        ),
        (
            {
                "kind": "webpush",
                "subscription": dict(good, keys={"p256dh": good["keys"]["p256dh"], "auth": "AAAA"}),
            },
            "subscription.keys.auth",
        ),
        ({"kind": "webpush", "token": "abc"}, "subscription"),
        ({"kind": "fcm", "subscription": good}, "token"),
    ]
    for body, field in cases:
        response = await post(body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["details"][0]["field"] == field
    unknown_field = await post({"kind": "webpush", "subscription": good, "extra": 1})
    assert unknown_field.status_code == 400
    bad_kind = await post({"kind": "sms", "token": "x"})
    assert bad_kind.status_code == 400
    assert await _count() == 0


async def test_http_endpoints_only_on_listed_loopback(client, factory, push_service, app_rt):
    citizen = await factory.user(kind="citizen")
    sub = push_service.device().subscription()
    sub["endpoint"] = sub["endpoint"].replace("127.0.0.1", "localhost")
    refused = await client.post(URL, json={"kind": "webpush", "subscription": sub}, headers=citizen.headers)
    assert refused.status_code == 422
    assert await _count() == 0


async def test_only_logged_in_citizens_register(client, factory, push_service):
    await factory.tree()
    staff = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    body = {"kind": "webpush", "subscription": push_service.device().subscription()}
    assert (await client.post(URL, json=body)).status_code == 401
    assert (await client.post(URL, json=body, headers=staff.headers)).status_code == 403
    other = await factory.user(kind="citizen")
    mine = await factory.user(kind="citizen")
    created = await client.post(URL, json=body, headers=mine.headers)
    assert (await client.delete(f"{URL}/{created.json()['id']}", headers=other.headers)).status_code == 404
    assert len((await client.get(URL, headers=mine.headers)).json()["items"]) == 1


async def test_concurrent_first_registrations_of_one_endpoint_make_one_row(client, app_rt):
    import asyncio

    from backend.citizen.push.tables import PushRegistration

    pair = (await client.post("/api/v1/citizens/register", json={"device_id": "race-phone-0001"})).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    body = {"kind": "fcm", "token": "fcm-token:APA91b" + "r" * 140}
    responses = await asyncio.gather(*[client.post(URL, json=body, headers=headers) for _ in range(5)])
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert await PushRegistration.count() == 1
