"""Categories: seeded defaults, public listing, admin changes (audited)."""

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.core.categories.services import DEFAULT_CATEGORIES


async def test_defaults_are_seeded_and_listed_in_vietnamese(client):
    items = (await client.get("/api/v1/categories")).json()["items"]
    assert [c["code"] for c in items] == [code for code, _, _ in DEFAULT_CATEGORIES]
    disaster = next(c for c in items if c["code"] == "disaster")
    assert disaster["name_vi"] == "Thiên tai, thảm họa, tình huống khẩn cấp"


async def test_admin_adds_renames_and_deactivates(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    created = await client.post(
        "/api/v1/categories", json={"code": "tourism", "name_vi": "Du lịch"}, headers=admin.headers
    )
    assert created.status_code == 201
    assert (
        await client.post(
            "/api/v1/categories", json={"code": "tourism", "name_vi": "X"}, headers=admin.headers
        )
    ).status_code == 409
    off = await client.patch("/api/v1/categories/health", json={"active": False}, headers=admin.headers)
    assert off.json()["active"] is False
    codes = [c["code"] for c in (await client.get("/api/v1/categories")).json()["items"]]
    assert "tourism" in codes and "health" not in codes
    assert await AuditEntry.count().where(AuditEntry.target_type == "category") == 2
    assert (
        await client.patch("/api/v1/categories/nope", json={"active": False}, headers=admin.headers)
    ).status_code == 404


async def test_non_admin_cannot_change_and_bad_code_is_400(client, factory):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    admin = await factory.user((Role.ADMIN, "38"))
    assert (
        await client.post("/api/v1/categories", json={"code": "abc", "name_vi": "A"}, headers=editor.headers)
    ).status_code == 403
    bad = await client.post(
        "/api/v1/categories", json={"code": "Có Dấu", "name_vi": "A"}, headers=admin.headers
    )
    assert bad.status_code == 400
