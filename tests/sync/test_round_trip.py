"""The round trip end to end with the reference client: snapshot, push, pull, conflicts."""

from __future__ import annotations

import uuid

from backend.core.accounts.permissions import Role
from backend.core.notices.tables import Notice
from backend.sync.tables import SyncConflict, SyncMutation
from tests.sync.helpers import draft, phone


async def test_a_draft_made_offline_reaches_the_server_and_a_colleagues_phone(client, factory, tmp_path):
    await factory.tree()
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    a = phone(client.app, tmp_path / "a.db", official)
    b = phone(client.app, tmp_path / "b.db", leader)
    await a.sync()
    await b.sync()
    assert set(a.rows("area")) == {"VN", "38", "38001", "38001-01", "38001-02"}

    notice_id = a.create("notice", draft())
    report = await a.sync()
    assert report.applied == 1 and report.rejected == 0
    stored = await Notice.select().where(Notice.id == uuid.UUID(notice_id)).first()
    assert stored["status"] == "draft" and stored["owner_area"] == "38001"
    assert a.rows("notice")[notice_id]["status"] == "draft"

    await b.sync()
    assert b.rows("notice")[notice_id]["title"] == "Tiêm chủng"

    # Both edit the title offline; b syncs last: its title wins, a's is kept in a conflict.
    a.update("notice", notice_id, {"title": "Tiêm chủng đợt 1"})
    b.update("notice", notice_id, {"title": "Tiêm chủng đợt 2", "priority": "priority"})
    await a.sync()
    await b.sync()
    await a.sync()
    assert a.rows("notice")[notice_id]["title"] == "Tiêm chủng đợt 2"
    assert a.rows("notice")[notice_id]["priority"] == "priority"
    [conflict] = await SyncConflict.select()
    assert conflict["field"] == "title"
    assert set(a.conflicts()) == {str(conflict["id"])}
    assert await SyncMutation.count() == 3
