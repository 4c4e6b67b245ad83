"""The queue: scope, filters, diacritics-insensitive search, keyset pages, bulk assignment; and
privacy — reporter identity only for a permitted role, never for anonymous reports."""

import uuid

import pytest

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.officials.feedback import search
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import URL, staff, submit


async def paged(client, user, params: dict) -> list[str]:
    """Every item id of a queue listing, following ``next_cursor`` page after page."""
    seen, cursor = [], None
    for _ in range(100):
        page = (
            await client.get(
                URL, params=params | ({"cursor": cursor} if cursor else {}), headers=user.headers
            )
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def test_filters_search_and_keyset_pages(client, factory, clock):
    await factory.tree()
    handler = await staff(factory, area="38")
    ids = [
        await submit(client, text=f"Ổ gà số {i} trên đường liên xã", category="local_admin") for i in range(5)
    ]
    lamp = await submit(client, text="Đèn đường hỏng ở Thôn Đoài", area_code="38001-02")
    other_province = await submit(client, area_code="40001")
    everyone = (await client.get(URL, headers=handler.headers)).json()["items"]
    assert other_province not in [i["id"] for i in everyone] and len(everyone) == 6
    search = (await client.get(URL, params={"q": "den DUONG hong"}, headers=handler.headers)).json()
    assert [i["id"] for i in search["items"]] == [lamp]
    by_area = (await client.get(URL, params={"area": "38001-02"}, headers=handler.headers)).json()
    assert [i["id"] for i in by_area["items"]] == [lamp]
    by_category = (await client.get(URL, params={"category": "local_admin"}, headers=handler.headers)).json()
    assert {i["id"] for i in by_category["items"]} == set(ids)
    assert (await client.get(URL, params={"area": "nowhere"}, headers=handler.headers)).status_code == 422
    assert await paged(client, handler, {"limit": 2, "sort": "oldest", "category": "local_admin"}) == ids
    wrong = await client.get(URL, params={"cursor": "eyJ4IjoxfQ", "sort": "due"}, headers=handler.headers)
    assert wrong.status_code == 400
    assert (await client.get(URL, params={"status": "answered"}, headers=handler.headers)).json()[
        "items"
    ] == []
    opened = (await client.get(URL, params={"group": "open"}, headers=handler.headers)).json()["items"]
    assert len(opened) == 6
    citizen_headers, _ = await citizen(client)
    assert (await client.get(URL, headers=citizen_headers)).status_code == 403


@pytest.mark.parametrize("window", [1, 3, 4, 100])
async def test_search_of_several_words_reads_the_window_then_the_index(client, factory, monkeypatch, window):
    """Whether the matches lie inside the newest-rows window, behind it or on both sides, pages of a
    search of several words hold exactly the matches, in order, each once."""
    monkeypatch.setattr(search, "WINDOW", window)
    await factory.tree()
    handler = await staff(factory, area="38")
    made = []
    for i in range(9):
        text = f"Đèn chiếu sáng hỏng số {i}" if i % 3 != 1 else f"Ổ gà số {i} trên đường"
        made.append((await submit(client, text=text), i % 3 != 1))
    lamps = [rid for rid, lamp in reversed(made) if lamp]  # newest first
    for limit in (1, 2, 10):
        assert await paged(client, handler, {"q": "den CHIEU sang", "limit": limit}) == lamps
    none = await client.get(URL, params={"q": "den khongco"}, headers=handler.headers)
    assert none.json() == {"items": [], "next_cursor": None}


async def test_bulk_assign_is_all_or_nothing(client, factory):
    await factory.tree()
    lead = await staff(factory, Role.COMMUNE_LEADER)
    worker = await staff(factory, Role.COMMUNE_OFFICIAL)
    outsider = await staff(factory, Role.FEEDBACK_HANDLER, "40001")
    a, b = await submit(client), await submit(client)
    elsewhere = await submit(client, area_code="40001")
    refused = await client.post(
        f"{URL}/assign", json={"ids": [a, elsewhere], "assignee": str(worker.id)}, headers=lead.headers
    )
    assert refused.status_code == 403 and refused.json()["error"]["details"]["feedback_id"] == elsewhere
    not_a_handler = await client.post(
        f"{URL}/assign", json={"ids": [a], "assignee": str(outsider.id)}, headers=lead.headers
    )
    assert not_a_handler.status_code == 422
    mine = (await client.get(URL, params={"assignee": "none"}, headers=lead.headers)).json()["items"]
    assert {i["id"] for i in mine} == {a, b}
    done = await client.post(
        f"{URL}/assign", json={"ids": [a, b], "assignee": str(worker.id)}, headers=lead.headers
    )
    assert done.status_code == 200
    assigned = (await client.get(URL, params={"assignee": "me"}, headers=worker.headers)).json()["items"]
    assert {i["id"] for i in assigned} == {a, b}
    assert all(i["status"] == "assigned" for i in assigned)


async def test_reporter_identity_only_where_the_role_allows(client, factory):
    await factory.tree()
    official = await staff(factory, Role.COMMUNE_OFFICIAL)
    leader = await staff(factory, Role.COMMUNE_LEADER)
    headers, account = await citizen(client)
    await Account.update({Account.full_name: "Nguyễn Văn An", Account.phone: "0912345678"}).where(
        Account.id == uuid.UUID(account)
    )
    named = await submit(client, headers, anonymous=False)
    anonymous = await submit(client, headers, anonymous=True)
    seen = (await client.get(f"{URL}/{named}", headers=leader.headers)).json()["reporter"]
    assert seen == {"account_id": account, "name": "Nguyễn Văn An", "phone": "0912345678", "email": ""}
    assert (await client.get(f"{URL}/{named}", headers=official.headers)).json()["reporter"] is None
    assert (await client.get(f"{URL}/{anonymous}", headers=leader.headers)).json()["reporter"] is None
    listing = await client.get(URL, headers=leader.headers)
    assert "0912345678" not in listing.text and account not in listing.text
