"""Following a report: list and read, add information when asked, rate once, reopen in the window."""

import uuid
from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.feedback import handling
from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit.tables import AuditEntry
from tests.citizen.feedback.helpers import citizen, counts, report

URL = "/api/v1/citizen/feedback"


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 9, 20, tzinfo=UTC))


async def _handler(rt, factory, area="38001"):
    user = await factory.user((Role.FEEDBACK_HANDLER, area))
    return await actor_for_account(rt, user.id, ClientInfo(addr="10.0.0.5", request_id="test"))


async def _submitted(client, headers, **change):
    response = await client.post(URL, json=report(**change), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_list_and_read_only_my_reports(client, factory, clock):
    await factory.tree()
    headers, _ = await citizen(client)
    ids = []
    for _ in range(3):
        ids.append(await _submitted(client, headers))
        clock.advance(minutes=1)
    first = await client.get(URL, params={"limit": 2}, headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert [i["id"] for i in page["items"]] == [ids[2], ids[1]]
    rest = (await client.get(URL, params={"cursor": page["next_cursor"]}, headers=headers)).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert (await client.get(URL, params={"cursor": "!!"}, headers=headers)).status_code == 400
    other, _ = await citizen(client)
    assert (await client.get(URL, headers=other)).json()["items"] == []
    assert (await client.get(f"{URL}/{ids[0]}", headers=other)).status_code == 404
    mine = await client.get(f"{URL}/{ids[0]}", headers=headers)
    assert mine.status_code == 200 and mine.json()["history"][0]["by"] == "citizen"


async def test_information_only_when_asked(client, factory, app_rt):
    await factory.tree()
    headers, _ = await citizen(client)
    feedback_id = await _submitted(client, headers)
    early = await client.post(f"{URL}/{feedback_id}/information", json={"text": "Thêm ảnh"}, headers=headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "feedback_state"
    handler = await _handler(app_rt, factory)
    await handling.request_information(app_rt, handler, feedback_id, "Bãi rác ở phía nào của trường?")
    state = (await client.get(f"{URL}/{feedback_id}", headers=headers)).json()
    assert state["status"] == "waiting_for_citizen" and state["can_add_information"] is True
    assert state["history"][-1] == {
        "at": state["history"][-1]["at"],
        "kind": "info_request",
        "by": "handler",
        "status": "waiting_for_citizen",
        "text": "Bãi rác ở phía nào của trường?",
        "rating": None,
    }
    blank = await client.post(f"{URL}/{feedback_id}/information", json={"text": "  "}, headers=headers)
    assert blank.status_code == 422
    added = await client.post(
        f"{URL}/{feedback_id}/information", json={"text": "Phía cổng sau."}, headers=headers
    )
    assert added.status_code == 200
    assert added.json()["status"] == "received"
    assert added.json()["history"][-1]["kind"] == "info_added"
    again = await client.post(f"{URL}/{feedback_id}/information", json={"text": "Nữa"}, headers=headers)
    assert again.status_code == 409


async def test_rate_once_after_an_answer(client, factory, app_rt):
    await factory.tree()
    headers, _ = await citizen(client)
    feedback_id = await _submitted(client, headers)
    before = await client.post(f"{URL}/{feedback_id}/rating", json={"rating": 4}, headers=headers)
    assert before.status_code == 409
    handler = await _handler(app_rt, factory)
    await handling.answer(app_rt, handler, feedback_id, "Đã bố trí xe thu gom vào sáng thứ Hai.")
    out_of_range = await client.post(f"{URL}/{feedback_id}/rating", json={"rating": 6}, headers=headers)
    assert out_of_range.status_code == 400
    rated = await client.post(
        f"{URL}/{feedback_id}/rating", json={"rating": 5, "comment": "Cảm ơn"}, headers=headers
    )
    assert rated.status_code == 200
    body = rated.json()
    assert body["rating"] == 5 and body["can_rate"] is False and body["status"] == "answered"
    assert [e["kind"] for e in body["history"]] == ["submitted", "answer", "rating"]
    twice = await client.post(f"{URL}/{feedback_id}/rating", json={"rating": 1}, headers=headers)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_rated"
    assert (await client.get(f"{URL}/{feedback_id}", headers=headers)).json()["rating"] == 5


async def test_not_resolved_reopens_within_the_window(client, factory, app_rt, clock):
    await factory.tree()
    headers, account = await citizen(client)
    feedback_id = await _submitted(client, headers)
    handler = await _handler(app_rt, factory)

    def fresh():  # access tokens last minutes; the clock moves days
        return {"Authorization": f"Bearer {factory.token(uuid.UUID(account), 'citizen')}"}

    too_early = await client.post(f"{URL}/{feedback_id}/not-resolved", json={}, headers=headers)
    assert too_early.status_code == 409
    await handling.resolve(app_rt, handler, feedback_id, "Đã dọn xong.")
    answered = (await client.get(f"{URL}/{feedback_id}", headers=headers)).json()
    assert answered["status"] == "resolved" and answered["status_group"] == "closed"
    assert answered["reopen_until"].startswith("2026-03-09T09:20:00")
    clock.advance(days=6)
    reopened = await client.post(
        f"{URL}/{feedback_id}/not-resolved", json={"text": "Rác lại đổ ra rồi."}, headers=fresh()
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "reopened" and reopened.json()["status_group"] == "open"
    await handling.answer(app_rt, handler, feedback_id, "Đã lập biên bản và dọn lại.")
    clock.advance(days=7, seconds=1)
    late = await client.post(f"{URL}/{feedback_id}/not-resolved", json={}, headers=fresh())
    assert late.status_code == 409 and late.json()["error"]["code"] == "reopen_window_closed"
    assert (await client.get(f"{URL}/{feedback_id}", headers=fresh())).json()["status"] == "answered"


async def test_handling_needs_the_right_area_and_is_audited(client, factory, app_rt):
    await factory.tree()
    headers, _ = await citizen(client)
    feedback_id = await _submitted(client, headers)
    elsewhere = await _handler(app_rt, factory, area="40001")
    with pytest.raises(Exception) as refused:
        await handling.answer(app_rt, elsewhere, feedback_id, "Không phải địa bàn của tôi")
    assert getattr(refused.value, "status_code", None) == 403
    plain = await _handler(app_rt, factory)
    citizen_actor = Actor(account_id=None, kind="citizen")
    with pytest.raises(Exception) as no_grant:
        await handling.answer(app_rt, citizen_actor, feedback_id, "…")
    assert getattr(no_grant.value, "status_code", None) == 403
    await handling.answer(app_rt, plain, feedback_id, "Đã tiếp nhận và xử lý.")
    entries = await AuditEntry.select().where(AuditEntry.target_id == str(feedback_id))
    assert [(e["action"], e["actor_role"], e["actor_area"]) for e in entries] == [
        ("feedback.answer", "feedback_handler", "38001")
    ]
    assert await counts() == (1, 0, 2)
