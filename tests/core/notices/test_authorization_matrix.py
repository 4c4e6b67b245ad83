"""Who may do what to a notice, where: every role × every notice action × inside / outside its area.

The expected outcome is written out here from the product rules, not derived from the code's own
role table, so a change to ``ROLE_PERMISSIONS`` that breaks the rules fails this file:

* commune_official, province_editor — create, edit, submit, read;
* commune_leader, province_approver — all of that, plus approve, return, publish, withdraw and
  emergency-publish;
* feedback_handler, admin — read only;
* citizen, device — nothing.

Without the right at all the answer is 403 wherever the notice is. With the right but outside the
grant's area it is 403 when creating (there is nothing to hide) and 404 for an existing notice in
another area, which is not even confirmed to exist.

Each case prepares its notice through the services (fast, no HTTP) and calls only the action under
test over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.core.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit.tables import AuditEntry
from backend.core.notices import flows, services
from backend.core.notices.schemas import ActionIn, NoticeIn, NoticeText
from backend.core.notices.tables import Notice
from backend.core.outbox.tables import OutboxMessage
from tests.factories import notice_body

API = "/api/v1/notices"

ACTIONS = (
    "create",
    "edit",
    "submit",
    "approve",
    "return",
    "publish",
    "withdraw",
    "emergency_publish",
    "read",
)

AUTHOR = frozenset({"create", "edit", "submit", "read"})
APPROVER = AUTHOR | {"approve", "return", "publish", "withdraw", "emergency_publish"}

# The rules, as the product states them.
ALLOWED: dict[Role, frozenset[str]] = {
    Role.CITIZEN: frozenset(),
    Role.COMMUNE_OFFICIAL: AUTHOR,
    Role.COMMUNE_LEADER: APPROVER,
    Role.PROVINCE_EDITOR: AUTHOR,
    Role.PROVINCE_APPROVER: APPROVER,
    Role.FEEDBACK_HANDLER: frozenset({"read"}),
    Role.DEVICE: frozenset(),
    Role.ADMIN: frozenset({"read"}),
}

PROVINCE_ROLES = {Role.PROVINCE_EDITOR, Role.PROVINCE_APPROVER}
ACCOUNT_KIND = {Role.CITIZEN: "citizen", Role.DEVICE: "device"}

# The state a notice must be in for the action to be possible, and the state it ends in.
PREPARED_STATE = {
    "edit": "draft",
    "submit": "draft",
    "approve": "submitted",
    "return": "submitted",
    "publish": "approved",
    "withdraw": "published",
    "emergency_publish": "draft",
    "read": "draft",
}
RESULT_STATE = {
    "edit": "draft",
    "submit": "submitted",
    "approve": "approved",
    "return": "draft",
    "publish": "published",
    "withdraw": "withdrawn",
    "emergency_publish": "published",
    "read": "draft",
}


def home_and_away(role: Role) -> tuple[str, str]:
    """The area the role is granted on, and an area outside it."""
    return ("38", "40") if role in PROVINCE_ROLES else ("38001", "38002")


def expected_status(role: Role, action: str, placement: str) -> int:
    if action not in ALLOWED[role]:
        return 403
    if placement == "inside":
        return 201 if action == "create" else 200
    return 403 if action == "create" else 404


def refusal_code(role: Role, action: str, status: int) -> str:
    if status == 404:
        return "not_found"
    return "forbidden" if action not in ALLOWED[role] else "out_of_area"


CASES = [
    pytest.param(
        role, action, placement, expected_status(role, action, placement), id=f"{role}-{action}-{placement}"
    )
    for role in Role
    for action in ACTIONS
    for placement in ("inside", "outside")
]

NOTICE_PERMISSION = {
    "create": Permission.NOTICE_CREATE,
    "edit": Permission.NOTICE_EDIT,
    "submit": Permission.NOTICE_SUBMIT,
    "approve": Permission.NOTICE_APPROVE,
    "return": Permission.NOTICE_RETURN,
    "publish": Permission.NOTICE_PUBLISH,
    "withdraw": Permission.NOTICE_WITHDRAW,
    "emergency_publish": Permission.NOTICE_EMERGENCY_PUBLISH,
    "read": Permission.NOTICE_READ,
}


def test_the_role_table_in_code_matches_the_rules():
    """Every role is covered, and the code's notice permissions are exactly the stated rules."""
    assert set(ALLOWED) == set(Role)
    for role in Role:
        granted = {action for action, perm in NOTICE_PERMISSION.items() if perm in ROLE_PERMISSIONS[role]}
        assert granted == ALLOWED[role], role


def test_the_matrix_is_complete():
    assert len(CASES) == len(Role) * len(ACTIONS) * 2
    counts = {status: sum(1 for c in CASES if c.values[3] == status) for status in (200, 201, 403, 404)}
    # Inside: 2 authors × 3 + 2 approvers × 8 + 2 readers × 1 actions on a notice, 4 creations.
    # Outside: the same notice actions are 404; everything else is 403.
    assert counts == {200: 24, 201: 4, 403: 92, 404: 24}


async def _prepare(rt: Any, factory: Any, area: str, action: str) -> dict[str, Any]:
    """A notice owned by and targeting ``area``, in the state the action needs, via the services."""
    setup_user = await factory.user((Role.PROVINCE_APPROVER, "VN"))
    actor = await actor_for_account(rt, setup_user.id, ClientInfo(addr="127.0.0.1", request_id="setup"))
    data = NoticeIn(
        category="disaster",
        priority="emergency" if action == "emergency_publish" else "normal",
        target_areas=[area],
        owner_area=area,
        texts={"vi": NoticeText(title="Cảnh báo lũ", body="Nước sông Mã dâng cao, bà con chú ý.")},
    )
    notice = await services.create(rt, actor, data)
    steps = {
        "draft": [],
        "submitted": [flows.submit],
        "approved": [flows.submit, flows.approve],
        "published": [flows.submit, flows.approve, flows.publish],
    }[PREPARED_STATE[action]]
    for step in steps:
        notice = await step(rt, actor, notice.id, ActionIn())
    assert notice.status == PREPARED_STATE[action]
    return {"id": str(notice.id), "row_version": notice.row_version, "status": notice.status}


async def _snapshot(notice_id: str) -> tuple[Any, ...]:
    row = (
        await Notice.select(Notice.status, Notice.row_version)
        .where(Notice.id == uuid.UUID(notice_id))
        .first()
    )
    assert row is not None
    outbox = await OutboxMessage.count().where(OutboxMessage.aggregate_id == notice_id)
    audit = await AuditEntry.count().where(AuditEntry.target_id == notice_id)
    return row["status"], row["row_version"], outbox, audit


@pytest.mark.parametrize(("role", "action", "placement", "expected"), CASES)
async def test_notice_action_by_role_and_area(client, factory, role, action, placement, expected):
    await factory.tree()
    rt = client.app.state.rt
    home, away = home_and_away(role)
    area = home if placement == "inside" else away
    user = await factory.user((role, home), kind=ACCOUNT_KIND.get(role, "staff"))

    if action == "create":
        before = await Notice.count()
        response = await client.post(API, json=notice_body(target_areas=[area]), headers=user.headers)
        assert response.status_code == expected, response.text
        if expected == 201:
            assert response.json()["owner_area"] == area
            assert response.json()["created_by"] == str(user.id)
            assert await Notice.count() == before + 1
        else:
            assert await Notice.count() == before
            assert response.json()["error"]["code"] == refusal_code(role, action, expected)
        return

    notice = await _prepare(rt, factory, area, action)
    before = await _snapshot(notice["id"])
    url = f"{API}/{notice['id']}"
    if action == "read":
        response = await client.get(url, headers=user.headers)
    elif action == "edit":
        body = {
            "row_version": notice["row_version"],
            "texts": {"vi": {"title": "Cảnh báo lũ (cập nhật)", "body": "Mực nước đã lên báo động 2."}},
        }
        response = await client.patch(url, json=body, headers=user.headers)
    else:
        response = await client.post(f"{url}/{action.replace('_', '-')}", json={}, headers=user.headers)

    assert response.status_code == expected, response.text
    if expected == 200:
        assert response.json()["id"] == notice["id"]
        assert response.json()["status"] == RESULT_STATE[action]
        if action != "read":
            assert (await _snapshot(notice["id"]))[1] == notice["row_version"] + 1
    else:
        assert response.json()["error"]["code"] == refusal_code(role, action, expected)
        assert await _snapshot(notice["id"]) == before, "a refused action changes nothing"
