"""The administrative tree: national import, CSV import, lookups and subtree paths."""

from backend.core.accounts.permissions import Role
from backend.core.areas import services as areas
from backend.core.areas.tables import Area
from backend.core.audit.tables import AuditEntry
from backend.core.changes.tables import ChangeLog


async def test_national_import_has_34_provinces_and_3321_communes(rt):
    result = await areas.import_vietnam(rt)
    assert result.created == 1 + 34 + 3321
    assert await Area.count().where(Area.level == "province") == 34
    assert await Area.count().where(Area.level == "commune") == 3321
    thanh_hoa = await Area.select().where(Area.code == "38").first()
    assert thanh_hoa["name"] == "Thanh Hóa"
    assert thanh_hoa["path"] == "/VN/38/"
    communes = await Area.select(Area.path).where(Area.parent_code == "38")
    assert communes and all(c["path"].startswith("/VN/38/") for c in communes)
    # Codes keep the register's zero padding: Hà Nội is 01 and its wards start 000…
    assert await Area.exists().where(Area.code == "01")
    assert await ChangeLog.count().where(ChangeLog.table_name == "area") == 1 + 34 + 3321
    again = await areas.import_vietnam(rt)
    assert again.created == 0 and again.updated == 0 and again.unchanged == 1 + 34 + 3321


async def test_tree_queries_over_http(client, factory):
    await factory.tree()
    children = (await client.get("/api/v1/areas/38001/children")).json()["items"]
    assert [c["name"] for c in children] == ["Thôn Đoài", "Thôn Đông"]  # sorted ignoring diacritics
    ancestors = (await client.get("/api/v1/areas/38001-02/ancestors")).json()["items"]
    assert [a["code"] for a in ancestors] == ["VN", "38", "38001"]
    inside = (await client.get("/api/v1/areas", params={"within": "38", "level": "village"})).json()["items"]
    assert {a["code"] for a in inside} == {"38001-01", "38001-02", "38002-01"}
    assert (await client.get("/api/v1/areas/nope")).status_code == 404


async def test_search_ignores_diacritics(client, factory):
    await factory.tree()
    for q in ("hoang hoa", "Hoằng Hóa", "HOANG"):
        found = (await client.get("/api/v1/areas", params={"q": q})).json()["items"]
        assert [a["code"] for a in found] == ["38001"], q
    dong = (await client.get("/api/v1/areas", params={"q": "thon dong"})).json()["items"]
    assert [a["code"] for a in dong] == ["38001-01"]


async def test_csv_import_adds_villages_and_is_audited(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    csv_text = "code,name,parent_code,level\n38002-02,Tổ dân phố 2,38002,village\n38002-03,Tổ dân phố 3,38002,village\n"
    response = await client.post(
        "/api/v1/areas/import",
        content=csv_text.encode(),
        headers={**admin.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    row = await Area.select().where(Area.code == "38002-03").first()
    assert row["path"] == "/VN/38/38002/38002-03/"
    assert row["depth"] == 3
    assert await AuditEntry.exists().where(AuditEntry.action == "area.import")


async def test_csv_with_district_level_tree_in_any_order(rt):
    async with rt.db.transaction():
        await areas.import_records(
            rt, [areas.AreaRecord(code="VN", name="Việt Nam", level="nation", parent_code=None)]
        )
    text = (
        "code,name,parent_code,level\n"
        "40001,Xã A,400,commune\n"
        "400,Huyện Cũ,40,district\n"
        "40,Nghệ An,VN,province\n"
    )
    async with rt.db.transaction():
        result = await areas.import_records(rt, areas.parse_csv(text))
    assert result.created == 3
    assert (await areas.get(rt, "40001"))["path"] == "/VN/40/400/40001/"


async def test_bad_csv_reports_every_row_and_changes_nothing(client, factory):
    await factory.tree()
    admin = await factory.user((Role.ADMIN, "38"))
    before = await Area.count()
    csv_text = (
        "code,name,parent_code,level\n"
        "X1,,38001,village\n"
        "X2,Thôn Hai,38001,hamlet\n"
        "X3,Thôn Ba,KHONG-CO,village\n"
    )
    response = await client.post(
        "/api/v1/areas/import",
        content=csv_text.encode(),
        headers={**admin.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["line 2.name", "line 3.level"]
    assert await Area.count() == before
    unknown_parent = "code,name,parent_code,level\nX3,Thôn Ba,KHONG-CO,village\n"
    response = await client.post(
        "/api/v1/areas/import",
        content=unknown_parent.encode(),
        headers={**admin.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert "KHONG-CO" in response.json()["error"]["details"][0]["reason"]
    assert await Area.count() == before


async def test_only_admins_import(client, factory):
    await factory.tree()
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    response = await client.post(
        "/api/v1/areas/import",
        content=b"code,name,parent_code,level\n",
        headers={**official.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 403


async def test_moving_an_area_rewrites_its_subtree(rt):
    records = [
        areas.AreaRecord(code=c, name=c, level=lvl, parent_code=p)
        for c, p, lvl in (
            ("VN", None, "nation"),
            ("38", "VN", "province"),
            ("40", "VN", "province"),
            ("38001", "38", "commune"),
            ("38001-01", "38001", "village"),
        )
    ]
    async with rt.db.transaction():
        await areas.import_records(rt, records)
    async with rt.db.transaction():
        await areas.import_records(
            rt, [areas.AreaRecord(code="38001", name="38001", level="commune", parent_code="40")]
        )
    assert (await areas.get(rt, "38001"))["path"] == "/VN/40/38001/"
    village = await areas.get(rt, "38001-01")
    assert village["path"] == "/VN/40/38001/38001-01/"
    assert village["depth"] == 3
