"""Racing on one notice: each lifecycle step is a conditional UPDATE, so of several concurrent
attempts exactly one wins and the others get 409 ``invalid_state`` — with one audit entry, one
change-log entry and, for publishing, one set of outbox rows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend.core.accounts.permissions import Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit.tables import AuditEntry
from backend.core.changes.tables import ChangeLog
from backend.core.notices import flows, services
from backend.core.notices.schemas import ActionIn, NoticeIn, NoticeOut, NoticeText
from backend.core.notices.tables import Notice
from backend.core.outbox.tables import OutboxMessage
from backend.lib.errors import Conflict
from tests.factories import Factory, notice_body

API = "/api/v1/notices"


async def _create(client, author) -> str:
    response = await client.post(API, json=notice_body(), headers=author.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _step(client, user, notice_id: str, action: str) -> None:
    response = await client.post(f"{API}/{notice_id}/{action}", json={}, headers=user.headers)
    assert response.status_code == 200, response.text


async def _audit_actions(notice_id: str, action: str) -> list[dict[str, Any]]:
    return await AuditEntry.select().where(
        (AuditEntry.target_id == notice_id) & (AuditEntry.action == action)
    )


async def _changes(notice_id: str) -> int:
    return await ChangeLog.count().where((ChangeLog.table_name == "notice") & (ChangeLog.row_id == notice_id))


async def test_two_approvers_racing_one_wins_one_gets_409(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    province = await factory.user((Role.PROVINCE_APPROVER, "38"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice_id = await _create(client, author)
    await _step(client, author, notice_id, "submit")

    responses = await asyncio.gather(
        *(client.post(f"{API}/{notice_id}/approve", json={}, headers=u.headers) for u in (leader, province))
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    winner, loser = sorted(responses, key=lambda r: r.status_code)
    assert loser.json()["error"]["code"] == "invalid_state"
    assert loser.json()["error"]["details"] == {"status": "approved", "action": "approve"}
    assert winner.json()["status"] == "approved"
    winner_id = winner.json()["approved_by"]
    assert winner_id in {str(leader.id), str(province.id)}

    row = await Notice.select().where(Notice.id == uuid.UUID(notice_id)).first()
    assert row["status"] == "approved"
    assert str(row["approved_by"]) == winner_id
    assert row["row_version"] == 3, "created 1, submitted 2, approved once 3"
    entries = await _audit_actions(notice_id, "notice.approve")
    assert len(entries) == 1
    assert str(entries[0]["actor_id"]) == winner_id
    assert await _changes(notice_id) == 3
    audit = await client.get(
        "/api/v1/audit", params={"target_id": notice_id, "action": "notice.approve"}, headers=admin.headers
    )
    assert audit.status_code == 200
    assert len(audit.json()["items"]) == 1

    # The winning approval stands: publishing goes on normally.
    await _step(client, leader, notice_id, "publish")


async def test_two_concurrent_publishes_send_one_set_of_outbox_rows(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    deputy = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice_id = await _create(client, author)
    await _step(client, author, notice_id, "submit")
    await _step(client, leader, notice_id, "approve")

    responses = await asyncio.gather(
        *(client.post(f"{API}/{notice_id}/publish", json={}, headers=u.headers) for u in (leader, deputy))
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = max(responses, key=lambda r: r.status_code)
    assert loser.json()["error"]["code"] == "invalid_state"
    rows = await OutboxMessage.select(OutboxMessage.channel, OutboxMessage.event).where(
        OutboxMessage.aggregate_id == notice_id
    )
    assert sorted(r["channel"] for r in rows) == sorted(flows.channels_for("normal"))
    assert {r["event"] for r in rows} == {"published"}
    assert len(await _audit_actions(notice_id, "notice.publish")) == 1
    assert await _changes(notice_id) == 4
    row = (
        await Notice.select(Notice.status, Notice.row_version)
        .where(Notice.id == uuid.UUID(notice_id))
        .first()
    )
    assert row == {"status": "published", "row_version": 4}


async def test_concurrent_emergency_publishes_send_once(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leaders = [await factory.user((Role.COMMUNE_LEADER, "38001")) for _ in range(3)]
    response = await client.post(API, json=notice_body(priority="emergency"), headers=author.headers)
    notice_id = response.json()["id"]

    responses = await asyncio.gather(
        *(client.post(f"{API}/{notice_id}/emergency-publish", json={}, headers=u.headers) for u in leaders)
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"invalid_state"}
    assert await OutboxMessage.count().where(OutboxMessage.aggregate_id == notice_id) == 5
    assert len(await _audit_actions(notice_id, "notice.emergency_publish")) == 1


async def test_ten_concurrent_approvals_at_service_level(rt):
    """Straight through the services, without HTTP: ten approvers, one approval."""
    factory = Factory(rt)
    await factory.tree()
    client = ClientInfo(addr="127.0.0.1", request_id="race")
    author_user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    author = await actor_for_account(rt, author_user.id, client)
    approvers = []
    for i in range(10):
        grant = (Role.COMMUNE_LEADER, "38001") if i % 2 else (Role.PROVINCE_APPROVER, "38")
        user = await factory.user(grant)
        approvers.append(await actor_for_account(rt, user.id, client))
    notice = await services.create(
        rt,
        author,
        NoticeIn(
            category="agriculture",
            priority="priority",
            target_areas=["38001-01", "38001-02"],
            texts={"vi": NoticeText(title="Lịch thả nước vụ Đông Xuân", body="Thả nước từ ngày 5 đến 10.")},
        ),
    )
    await flows.submit(rt, author, notice.id, ActionIn())

    results = await asyncio.gather(
        *(flows.approve(rt, a, notice.id, ActionIn(reason="Đồng ý")) for a in approvers),
        return_exceptions=True,
    )

    wins = [r for r in results if isinstance(r, NoticeOut)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1, results
    assert len(conflicts) == 9, results
    assert {c.code for c in conflicts} == {"invalid_state"}
    assert {c.params["state"] for c in conflicts} == {"approved"}
    winner = approvers[results.index(wins[0])]
    assert wins[0].approved_by == winner.account_id
    stored = (
        await Notice.select(Notice.status, Notice.approved_by, Notice.row_version)
        .where(Notice.id == notice.id)
        .first()
    )
    assert stored == {"status": "approved", "approved_by": winner.account_id, "row_version": 3}
    entries = await _audit_actions(str(notice.id), "notice.approve")
    assert len(entries) == 1
    assert entries[0]["actor_id"] == winner.account_id
    assert await _changes(str(notice.id)) == 3
    assert await OutboxMessage.count() == 0, "approval alone sends nothing"
