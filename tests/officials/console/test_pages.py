"""The console's pages drive the same services as the REST API: the queue with filters, search,
paging, bulk assignment and export; an item's actions through its forms; who reported only where
the role allows; the dashboard and the yearly report with their charts."""

import csv
import io
import re
import uuid

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from tests.citizen.feedback.helpers import citizen
from tests.officials.console.helpers import csrf_of, login, page_csrf, staff_with_password
from tests.officials.feedback.helpers import CONFIG, URL, admin, submit, unit

ITEM_LINK = re.compile(r'href="/console/feedback/([0-9a-f-]{36})" class="open-item">([^<]+)<')


async def queue_ids(client, query=""):
    response = await client.get(f"/console/queue{query}")
    assert response.status_code == 200, response.text
    return [m.group(1) for m in ITEM_LINK.finditer(response.text)], response


async def test_queue_filters_paging_bulk_assign_and_export(client, factory, monkeypatch):
    await factory.tree()
    _, username = await staff_with_password(factory, Role.COMMUNE_LEADER, "38001")
    worker = await factory.user((Role.COMMUNE_OFFICIAL, "38001"), username="can.bo.xa")
    await Account.update({Account.full_name: "Phạm Thị Dung"}).where(Account.id == worker.id)
    roads = [
        await submit(client, text=f"Ổ gà số {i} trên đường liên xã", category="local_admin") for i in range(3)
    ]
    lamp = await submit(client, text="Đèn đường hỏng ở Thôn Đoài", area_code="38001-02")
    assert (await login(client, username)).status_code == 303

    found, page = await queue_ids(client, "?q=DEN+duong+HONG")
    assert found == [lamp] and "Đèn đường hỏng ở Thôn Đoài" in page.text and "Thôn Đoài" in page.text
    found, _ = await queue_ids(client, "?category=local_admin&sort=oldest")
    assert found == roads
    found, _ = await queue_ids(client, "?area=38001-02")
    assert found == [lamp]

    seen, query = [], "?sort=oldest"
    import backend.officials.console.controllers as console

    monkeypatch.setattr(console, "QUEUE_PAGE", 2)
    for _ in range(3):
        ids, response = await queue_ids(client, query)
        seen += ids
        more = re.search(r'href="(/console/queue\?[^"]+)" id="next-page"', response.text)
        if not more:
            break
        query = more.group(1).replace("&amp;", "&").removeprefix("/console/queue")
    assert seen == [*roads, lamp]

    _, page = await queue_ids(client)
    assigned = await client.post(
        "/console/queue/assign",
        data={
            "csrf": csrf_of(page.text),
            "ids": roads[:2],
            "assignee": str(worker.id),
            "back": "/console/queue",
        },
    )
    assert (
        assigned.status_code == 303
        and assigned.headers["location"] == "/console/queue?done=bulk_assign&count=2"
    )
    done = await client.get(assigned.headers["location"])
    assert "Đã phân công 2 phản ánh." in done.text
    mine = (await client.get(URL, params={"assignee": "me"}, headers=worker.headers)).json()["items"]
    assert {i["id"] for i in mine} == set(roads[:2])
    found, _ = await queue_ids(client, f"?assignee={worker.id}")
    assert set(found) == set(roads[:2])
    refused = await client.post(
        "/console/queue/assign",
        data={
            "csrf": csrf_of(page.text),
            "ids": [roads[2]],
            "assignee": str(uuid.uuid4()),
            "back": "https://evil",
        },
    )
    assert refused.status_code == 422 and "Dữ liệu không hợp lệ." in refused.text

    exported = await client.get("/console/queue.csv?category=local_admin")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 3 and {r["assignee"] for r in rows} == {"Phạm Thị Dung", ""}


async def test_item_actions_through_forms(client, factory):
    await factory.tree()
    boss = await admin(factory)
    commune = await unit(client, boss, "UBND xã Hoằng Hóa", "38001")
    template = await client.post(
        f"{CONFIG}/templates",
        json={
            "title": "Đã xử lý",
            "text": "Cảm ơn ông/bà; xã đã cho thu gom rác trong ngày.",
            "category": "",
        },
        headers=boss.headers,
    )
    assert template.status_code == 201
    handler, username = await staff_with_password(factory, Role.COMMUNE_LEADER, "38")
    phone, _ = await citizen(client)
    first = await submit(client, phone, text="Bãi rác tự phát cạnh trường tiểu học, bốc mùi nhiều ngày.")
    second = await submit(client, text="Bãi rác tự phát cạnh trường tiểu học bốc mùi nhiều ngày rồi")
    assert (await login(client, username)).status_code == 303

    item = f"/console/feedback/{first}"
    page = await client.get(item)
    assert page.status_code == 200 and "Chờ phân loại" in page.text and "Ẩn danh" in page.text
    token = csrf_of(page.text)

    async def do(action, target=first, **form):
        response = await client.post(f"/console/feedback/{target}/{action}", data={"csrf": token, **form})
        assert response.status_code == 303, response.text
        return await client.get(response.headers["location"])

    routed = await do("route", unit=commune, reason="Thuộc địa bàn xã")
    assert "Đã chuyển đơn vị xử lý." in routed.text and "UBND xã Hoằng Hóa" in routed.text
    assert "Đã tiếp nhận phản ánh." in (await do("accept")).text
    noted = await do("note", text="Gọi tổ vệ sinh môi trường.")
    assert "Gọi tổ vệ sinh môi trường." in noted.text and "Nội bộ" in noted.text
    answered = await do("answer", template=template.json()["id"], text="")
    assert "Cảm ơn ông/bà; xã đã cho thu gom rác trong ngày." in answered.text
    assert re.search(r'id="status">Đã trả lời<', answered.text)
    drafted = await client.post(
        f"{item}/notice", data={"csrf": token, "title": "Trả lời phản ánh", "area_code": ""}
    )
    assert drafted.status_code == 303 and "notice=" in drafted.headers["location"]
    assert "Đã tạo bản tin nháp" in (await client.get(drafted.headers["location"])).text

    mine = await client.get(f"/api/v1/citizen/feedback/{first}", headers=phone)
    assert mine.json()["status"] == "answered"
    assert "Gọi tổ vệ sinh" not in mine.text  # the internal note stays internal

    other = await client.get(f"/console/feedback/{second}")
    assert "merge-suggestion" in other.text  # the first report is suggested as the original
    merged = await do(
        "merge",
        target=second,
        original=(await client.get(f"{URL}/{first}", headers=handler.headers)).json()["token"],
    )
    assert re.search(r'id="status">Trùng lặp<', merged.text)

    empty = await client.post(f"{item}/note", data={"csrf": token, "text": ""})
    assert empty.status_code in (400, 422) and "<!DOCTYPE html>" in empty.text
    closed = await client.post(f"/console/feedback/{second}/accept", data={"csrf": token})
    assert closed.status_code == 409 and "không thể thực hiện thao tác này" in closed.text


async def test_reporter_identity_only_where_the_role_allows(client, factory):
    await factory.tree()
    headers, account = await citizen(client)
    await Account.update({Account.full_name: "Nguyễn Văn An", Account.phone: "0912345678"}).where(
        Account.id == uuid.UUID(account)
    )
    named = await submit(client, headers, anonymous=False)
    _, leader = await staff_with_password(factory, Role.COMMUNE_LEADER, "38001")
    _, official = await staff_with_password(factory, Role.COMMUNE_OFFICIAL, "38001")
    assert (await login(client, leader)).status_code == 303
    assert "0912345678" in (await client.get(f"/console/feedback/{named}")).text
    client.cookies.clear()
    assert (await login(client, official)).status_code == 303
    hidden = await client.get(f"/console/feedback/{named}")
    assert "0912345678" not in hidden.text and "Nguyễn Văn An" not in hidden.text
    assert "Không hiển thị" in hidden.text
    exported = await client.get("/console/queue.csv")
    assert "0912345678" not in exported.text


async def test_dashboard_and_yearly_report_pages(client, factory):
    await factory.tree()
    await submit(client)
    _, username = await staff_with_password(factory, Role.FEEDBACK_HANDLER, "38")
    assert (await login(client, username)).status_code == 303
    dashboard = await client.get("/console/dashboard?area=38")
    assert dashboard.status_code == 200 and "<svg" in dashboard.text and "Thanh Hóa" in dashboard.text
    assert re.search(r'id="received">1<', dashboard.text)
    yearly = await client.get("/console/reports/yearly?area=38")
    assert (
        yearly.status_code == 200 and "Báo cáo thông tin cơ sở năm" in yearly.text and "<svg" in yearly.text
    )
    printable = await client.get("/console/reports/yearly.html?area=38")
    assert printable.status_code == 200 and printable.text.startswith("<!DOCTYPE html>")
    table = await client.get("/console/reports/yearly.csv?area=38")
    assert table.status_code == 200 and table.text.startswith("section,figure,key,value")
    assert (await client.get("/console/reports/yearly?area=38001")).status_code == 422
    assert await page_csrf(client, "/console/dashboard")
