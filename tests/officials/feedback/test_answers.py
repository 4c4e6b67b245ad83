"""Answer templates, and a public answer turned into a draft notice for the commune loudspeakers."""

import json

from backend.core.accounts.permissions import Role
from backend.core.notices.tables import Notice
from tests.officials.feedback.helpers import CONFIG, act, admin, staff, submit


async def test_template_answer_and_notice_draft(client, factory):
    await factory.tree()
    boss = await admin(factory)
    leader = await staff(factory, Role.COMMUNE_LEADER)
    handler = await staff(factory)
    made = await client.post(
        f"{CONFIG}/templates",
        json={"title": "Đã thu gom", "text": "UBND xã đã bố trí thu gom rác.", "category": "environment"},
        headers=boss.headers,
    )
    assert made.status_code == 201
    assert (
        await client.post(f"{CONFIG}/templates", json=made.json(), headers=leader.headers)
    ).status_code in {400, 403}
    listed = (
        await client.get(f"{CONFIG}/templates", params={"category": "environment"}, headers=handler.headers)
    ).json()
    assert [t["title"] for t in listed["items"]] == ["Đã thu gom"]
    feedback_id = await submit(client)
    early = await act(client, leader, feedback_id, "notice", {})
    assert early.status_code == 409
    answered = await act(client, handler, feedback_id, "answer", {"template": made.json()["id"]})
    assert answered.json()["history"][-1]["text"] == "UBND xã đã bố trí thu gom rác."
    assert (
        await act(client, handler, feedback_id, "notice", {})
    ).status_code == 403  # may not author notices
    drafted = await act(client, leader, feedback_id, "notice", {})
    assert drafted.status_code == 201
    notice = await Notice.select().where(Notice.id == drafted.json()["notice_id"]).first()
    assert notice["status"] == "draft" and notice["owner_area"] == "38001"
    assert drafted.json()["radio"] is False  # the commune has no broadcast station in this test
    texts = json.loads(notice["texts"]) if isinstance(notice["texts"], str) else notice["texts"]
    assert "UBND xã đã bố trí thu gom rác." in texts["vi"]["body"]
