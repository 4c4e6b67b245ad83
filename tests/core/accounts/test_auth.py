"""Logins, token rotation and reuse detection, key rotation, citizens, staff administration."""

import uuid

import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts import admin as staff_admin
from backend.core.accounts.permissions import Role
from backend.core.accounts.schemas import GrantIn
from backend.core.audit.tables import AuditEntry


@pytest.fixture
def clock():
    return FakeClock()


async def _staff(
    rt, username="canbo.xa", password="mat-khau-du-dai", role=Role.COMMUNE_OFFICIAL, area="38001"
):
    await staff_admin.ensure_staff(rt, username, password, "Cán bộ xã", [GrantIn(role=role, area_code=area)])
    return username, password


async def _login(client, username, password):
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_login_gives_eddsa_jwt_with_kid_and_audit(client, factory, app_rt):
    await factory.tree()
    username, password = await _staff(app_rt)
    response = await _login(client, username, password)
    assert response.status_code == 200, response.text
    pair = response.json()
    import jwt

    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] == app_rt.jwt_keys.current.kid
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert me.json()["grants"][0]["role"] == "commune_official"
    assert await AuditEntry.exists().where(AuditEntry.action == "auth.login")


@pytest.mark.parametrize(
    ("username", "password"), [("canbo.xa", "sai-mat-khau-roi"), ("khong.co", "mat-khau-du-dai")]
)
async def test_wrong_credentials_are_401_and_same_message(client, factory, app_rt, username, password):
    await factory.tree()
    await _staff(app_rt)
    response = await _login(client, username, password)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_access_token_expires_with_the_clock(client, factory, app_rt, clock):
    await factory.tree()
    user = await factory.user((Role.ADMIN, "38"))
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 200
    clock.advance(minutes=app_rt.settings.access_token_minutes + 1)
    response = await client.get("/api/v1/auth/me", headers=user.headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


async def test_tampered_and_unknown_kid_tokens_are_rejected(client, factory):
    await factory.tree()
    user = await factory.user((Role.ADMIN, "38"))
    head, payload, sig = user.token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    ).status_code == 401
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    ).status_code == 401


async def test_key_rotation_keeps_old_tokens_valid_until_retired(client, factory, app_rt):
    await factory.tree()
    user = await factory.user((Role.ADMIN, "38"))
    old_kid = app_rt.jwt_keys.current.kid
    app_rt.jwt_keys.rotate()
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 200
    fresh = factory.token(user.id)
    import jwt

    assert jwt.get_unverified_header(fresh)["kid"] != old_kid
    app_rt.jwt_keys.retire(old_kid)
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 401
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(client, factory, app_rt):
    await factory.tree()
    username, password = await _staff(app_rt)
    first = (await _login(client, username, password)).json()
    second = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    # The first token again: someone copied it. Both it and the newer one stop working.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_reused"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert await AuditEntry.exists().where(AuditEntry.action == "auth.refresh_reuse")


async def test_refresh_token_expires(client, factory, app_rt, clock):
    await factory.tree()
    username, password = await _staff(app_rt)
    pair = (await _login(client, username, password)).json()
    clock.advance(days=app_rt.settings.refresh_token_days + 1)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


async def test_logout_revokes(client, factory, app_rt):
    await factory.tree()
    username, password = await _staff(app_rt)
    pair = (await _login(client, username, password)).json()
    assert (
        await client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 204
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


async def test_login_rate_limit_is_429_with_retry_after(client, factory, app_rt):
    client.app.state.login_limiter.limit = 3
    for _ in range(3):
        assert (await _login(client, "ai.do", "mat-khau-sai-123")).status_code == 401
    response = await _login(client, "ai.do", "mat-khau-sai-123")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


async def test_citizen_registers_anonymously_without_phone(client):
    response = await client.post("/api/v1/citizens/register", json={"device_id": "android-0123456789"})
    assert response.status_code == 201, response.text
    token = response.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["kind"] == "citizen"
    assert me.json()["grants"] == []
    again = await client.post("/api/v1/citizens/register", json={"device_id": "android-0123456789"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [{"device_id": "short"}, {"device_id": "android-0123456789", "phone": "abc"}, {"phone": "0912345678"}],
)
async def test_citizen_registration_validates(client, body):
    response = await client.post("/api/v1/citizens/register", json=body)
    assert response.status_code == 400
    from backend.core.accounts.tables import Account

    assert await Account.count() == 0


async def test_admin_creates_staff_and_grants_are_audited(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    body = {
        "username": "lanhdao.xa",
        "password": "mot-mat-khau-dai",
        "full_name": "Chủ tịch xã",
        "grants": [{"role": "commune_leader", "area_code": "38001"}],
    }
    created = await client.post("/api/v1/accounts", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["grants"][0]["area_name"] == "Xã Hoằng Hóa"
    dup = await client.post("/api/v1/accounts", json=body, headers=admin.headers)
    assert dup.status_code == 409
    grant = await client.post(
        f"/api/v1/accounts/{account['id']}/grants",
        json={"role": "commune_official", "area_code": "38002"},
        headers=admin.headers,
    )
    assert grant.status_code == 200
    grant_id = next(g["id"] for g in grant.json()["grants"] if g["area_code"] == "38002")
    revoked = await client.post(
        f"/api/v1/accounts/{account['id']}/grants/{grant_id}/revoke", headers=admin.headers
    )
    assert [g["area_code"] for g in revoked.json()["grants"]] == ["38001"]
    audit = await client.get("/api/v1/audit", params={"target_id": account["id"]}, headers=admin.headers)
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions == ["account.revoke", "account.grant", "account.create"]
    assert all(e["actor_role"] == "admin" and e["actor_area"] == "38" for e in audit.json()["items"])


async def test_grant_on_unknown_area_is_422_and_creates_nothing(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    body = {
        "username": "ai.do",
        "password": "mot-mat-khau-dai",
        "full_name": "X",
        "grants": [{"role": "commune_leader", "area_code": "99999"}],
    }
    response = await client.post("/api/v1/accounts", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "grants.area_code"
    listing = await client.get("/api/v1/accounts", headers=admin.headers)
    assert [a["username"] for a in listing.json()["items"]] == [listing.json()["items"][0]["username"]]


async def test_only_admins_manage_accounts_and_read_audit(client, factory):
    await factory.tree()
    leader = await factory.user((Role.PROVINCE_APPROVER, "38"))
    assert (await client.get("/api/v1/accounts", headers=leader.headers)).status_code == 403
    assert (await client.get("/api/v1/audit", headers=leader.headers)).status_code == 403
    body = {"username": "x.y", "password": "mot-mat-khau-dai", "full_name": "X"}
    assert (await client.post("/api/v1/accounts", json=body, headers=leader.headers)).status_code == 403


async def test_deactivation_blocks_tokens_at_once(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.get("/api/v1/auth/me", headers=official.headers)).status_code == 200
    response = await client.put(
        f"/api/v1/accounts/{official.id}/active", json={"active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=official.headers)).status_code == 401


async def test_unknown_account_is_404(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    response = await client.get(f"/api/v1/accounts/{uuid.uuid4()}", headers=admin.headers)
    assert response.status_code == 404
