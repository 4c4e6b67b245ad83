"""A public answer to citizen feedback, drafted as a notice, is marked for the commune radio and
plays in the answers part of the programme once approved and published."""

from __future__ import annotations

import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from tests.broadcast.support import drain, station, verifier
from tests.officials.feedback.helpers import act, staff, submit


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_an_answer_marked_for_radio_plays_in_the_answers_part(client, factory, app_rt, clock):
    await factory.tree()
    leader, st = await station(client, factory)
    handler = await staff(factory, Role.FEEDBACK_HANDLER)
    feedback_id = await submit(client)
    r = await act(client, handler, feedback_id, "answer", {"text": "UBND xã đã sửa đèn đường thôn Đông."})
    assert r.status_code in (200, 201), r.text
    drafted = await act(client, leader, feedback_id, "notice", {})
    assert drafted.status_code == 201 and drafted.json()["radio"] is True
    notice_id = drafted.json()["notice_id"]
    for step in ("submit", "approve", "publish"):
        r = await client.post(f"/api/v1/notices/{notice_id}/{step}", json={}, headers=leader.headers)
        assert r.status_code in (200, 201), r.text
    await drain(client)
    v = await verifier(client)
    audio = v.verify((await broadcast.current_manifests(app_rt, st["default_group_id"]))[0], clock.now())
    items = audio.entries[0]["items"]
    assert [(i["kind"], i["notice_id"]) for i in items[1:-1]] == [("answer", notice_id)]
