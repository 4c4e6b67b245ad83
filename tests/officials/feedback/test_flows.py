"""The workflow's transitions: allowed only from the right states and by the right roles, each
audited with its reason; internal notes never reach the citizen."""

import json

import pytest

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.officials.feedback.flows import STEPS
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import CITIZEN_URL, URL, act, staff, submit


def test_every_action_has_a_move_and_closed_states_are_terminal_for_handlers():
    for name, step in STEPS.items():
        assert step.moves, name
    closing = {"answer", "forward", "merge", "reject"}
    for name in closing:
        assert "duplicate" not in STEPS[name].moves and "rejected" not in STEPS[name].moves
    assert set(STEPS["reopen"].moves) == {"answered", "resolved", "forwarded", "rejected"}


async def test_happy_path_with_states_history_and_audit(client, factory):
    await factory.tree()
    handler = await staff(factory)
    feedback_id = await submit(client)
    accepted = await act(client, handler, feedback_id, "accept", {"reason": "tiếp nhận"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["handling"]["acknowledged_at"] is not None
    assigned = await client.post(
        f"{URL}/assign", json={"ids": [feedback_id], "assignee": str(handler.id)}, headers=handler.headers
    )
    assert assigned.status_code == 200 and assigned.json() == {"assigned": [feedback_id]}
    started = await act(client, handler, feedback_id, "start")
    assert started.json()["status"] == "in_progress"
    assert started.json()["handling"]["assignee"] == str(handler.id)
    answered = await act(client, handler, feedback_id, "answer", {"text": "Đã sửa đèn."})
    assert answered.json()["status"] == "answered" and answered.json()["group"] == "resolved"
    resolved = await act(client, handler, feedback_id, "resolve", {"reason": "Xong"})
    assert resolved.json()["status"] == "resolved"
    kinds = [e["kind"] for e in resolved.json()["history"]]
    assert kinds == ["submitted", "accepted", "assigned", "started", "answer", "resolved"]
    entries = await AuditEntry.select().where(AuditEntry.target_id == feedback_id).order_by(AuditEntry.id)
    assert [e["action"] for e in entries] == [
        "feedback.accept",
        "feedback.assign",
        "feedback.start",
        "feedback.answer",
        "feedback.resolve",
    ]
    details = entries[0]["details"]
    details = json.loads(details) if isinstance(details, str) else details
    assert details == {"from": "received", "to": "accepted", "reason": "tiếp nhận"}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {}),
        ("start", {}),
        ("answer", {"text": "x"}),
        ("forward", {"reason": "Thuộc thẩm quyền huyện"}),
        ("reject", {"reason": "Nội dung xúc phạm"}),
    ],
)
async def test_closed_reports_refuse_handling_steps(client, factory, action, body):
    await factory.tree()
    handler = await staff(factory)
    feedback_id = await submit(client)
    assert (await act(client, handler, feedback_id, "answer", {"text": "Đã xử lý."})).status_code == 200
    await act(client, handler, feedback_id, "resolve")
    refused = await act(client, handler, feedback_id, action, body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "feedback_state"
    assert "resolved" not in refused.json()["error"]["details"]["allowed"]


async def test_roles_reasons_and_areas(client, factory):
    await factory.tree()
    official = await staff(factory, Role.COMMUNE_OFFICIAL)
    leader = await staff(factory, Role.COMMUNE_LEADER)
    editor = await staff(factory, Role.PROVINCE_EDITOR, "38")
    elsewhere = await staff(factory, Role.FEEDBACK_HANDLER, "40001")
    feedback_id = await submit(client)
    assert (await act(client, editor, feedback_id, "accept")).status_code == 403
    assert (await act(client, elsewhere, feedback_id, "accept")).status_code == 403
    assert (await act(client, official, feedback_id, "accept")).status_code == 200
    forbidden = await act(client, official, feedback_id, "reject", {"reason": "Spam"})
    assert forbidden.status_code == 403
    no_reason = await act(client, leader, feedback_id, "reject", {"reason": "  "})
    assert no_reason.status_code == 422
    rejected = await act(client, leader, feedback_id, "reject", {"reason": "Nội dung xúc phạm"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await act(client, official, feedback_id, "reopen", {"reason": "Nhầm"})).status_code == 403
    reopened = await act(client, leader, feedback_id, "reopen", {"reason": "Kiểm tra lại"})
    assert reopened.json()["status"] == "reopened"
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.actor_role).where(
        AuditEntry.target_id == feedback_id
    )
    assert [(e["action"], e["actor_role"]) for e in entries] == [
        ("feedback.accept", "commune_official"),
        ("feedback.reject", "commune_leader"),
        ("feedback.reopen", "commune_leader"),
    ]


async def test_internal_note_never_reaches_the_citizen(client, factory):
    await factory.tree()
    handler = await staff(factory)
    headers, _ = await citizen(client)
    feedback_id = await submit(client, headers)
    noted = await act(client, handler, feedback_id, "notes", {"text": "Người này phản ánh nhiều lần."})
    assert noted.status_code == 200 and noted.json()["status"] == "received"
    assert noted.json()["history"][-1]["public"] is False
    await act(client, handler, feedback_id, "request-info", {"text": "Ở số nhà nào?"})
    mine = (await client.get(f"{CITIZEN_URL}/{feedback_id}", headers=headers)).json()
    assert [e["kind"] for e in mine["history"]] == ["submitted", "info_request"]
    assert "nhiều lần" not in str(mine)
