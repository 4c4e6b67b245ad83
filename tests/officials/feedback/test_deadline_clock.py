"""The deadline clock stands still while a report waits for the citizen and moves the deadlines on
by the working days of the wait; a citizen's "not resolved" starts a fresh answer deadline."""

from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.officials.feedback.sweep import sweep
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import CITIZEN_URL, CONFIG, URL, admin, staff, submit


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 2 March 2026, 09:00 in Vietnam


class Now:
    """Tokens made at the fake clock's current time (a 15-minute token would expire as it moves)."""

    def __init__(self, factory, staff_id, citizen_id):
        self.factory, self.staff_id, self.citizen_id = factory, staff_id, citizen_id

    @property
    def staff(self):
        return {"Authorization": f"Bearer {self.factory.token(self.staff_id)}"}

    @property
    def citizen(self):
        return {"Authorization": f"Bearer {self.factory.token(self.citizen_id, 'citizen')}"}


async def handling(client, who, feedback_id):
    return (await client.get(f"{URL}/{feedback_id}", headers=who.staff)).json()["handling"]


async def overdue_ids(client, who):
    items = (await client.get(URL, params={"overdue": "true"}, headers=who.staff)).json()["items"]
    return [i["id"] for i in items]


async def step(client, who, feedback_id, action, body=None):
    return await client.post(f"{URL}/{feedback_id}/{action}", json=body or {}, headers=who.staff)


async def test_waiting_for_the_citizen_pauses_and_reopening_restarts(client, factory, app_rt, clock):
    await factory.tree()
    boss = await admin(factory)
    sla = {"ack_days": 1, "answer_days": 7, "remind_days": 2}
    assert (await client.put(f"{CONFIG}/sla/environment", json=sla, headers=boss.headers)).status_code == 200
    handler = await staff(factory)
    phone, citizen_id = await citizen(client)
    handler = Now(factory, handler.id, citizen_id)
    feedback_id = await submit(client, phone)  # environment: answer within 7 working days
    assert (await handling(client, handler, feedback_id))["answer_due"] == "2026-03-11T10:00:00Z"
    assert (await step(client, handler, feedback_id, "accept")).status_code == 200

    clock.set(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # Tuesday 3 March: ask the citizen
    asked = await step(client, handler, feedback_id, "request-info", {"text": "Xin cho biết số nhà cụ thể."})
    assert asked.status_code == 200

    clock.set(datetime(2026, 3, 13, 3, 0, tzinfo=UTC))  # Friday 13: past the old deadline, still waiting
    waiting = await handling(client, handler, feedback_id)
    assert waiting["overdue"] is False
    assert feedback_id not in await overdue_ids(client, handler)
    assert (await sweep(app_rt)).overdue == 0

    clock.set(datetime(2026, 3, 16, 2, 0, tzinfo=UTC))  # Monday 16: the citizen answers
    added = await client.post(
        f"{CITIZEN_URL}/{feedback_id}/information",
        json={"text": "Số nhà 12, ngõ 3."},
        headers=handler.citizen,
    )
    assert added.status_code == 200, added.text
    resumed = await handling(client, handler, feedback_id)
    # Nine working days stood still (Wed 4 … Mon 16), so 11 March moves on nine working days.
    assert resumed["answer_due"] == "2026-03-24T10:00:00Z"
    assert resumed["overdue"] is False and feedback_id not in await overdue_ids(client, handler)

    clock.set(datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    answered = await step(client, handler, feedback_id, "answer", {"text": "Đã dọn bãi rác."})
    assert answered.status_code == 200
    clock.set(datetime(2026, 3, 25, 2, 0, tzinfo=UTC))  # Wednesday 25: "not resolved"
    reopened = await client.post(
        f"{CITIZEN_URL}/{feedback_id}/not-resolved", json={"text": "Rác vẫn còn."}, headers=handler.citizen
    )
    assert reopened.status_code == 200, reopened.text
    fresh = await handling(client, handler, feedback_id)
    assert fresh["answer_due"] == "2026-04-03T10:00:00Z"  # seven working days from 25 March
    clock.set(datetime(2026, 3, 27, 2, 0, tzinfo=UTC))  # after the first deadline, before the new one
    assert (await sweep(app_rt)).overdue == 0
    assert feedback_id not in await overdue_ids(client, handler)
    clock.set(datetime(2026, 4, 3, 10, 1, tzinfo=UTC))
    assert (await sweep(app_rt)).overdue == 1
    assert await overdue_ids(client, handler) == [feedback_id]
