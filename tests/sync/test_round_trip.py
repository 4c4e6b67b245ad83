"""The round trip end to end with the reference client: snapshot, push, pull, conflicts."""

from __future__ import annotations

import uuid

import pytest

from backend.core.accounts.permissions import Role
from backend.core.notices.tables import Notice
from backend.sync.tables import SyncConflict, SyncMutation
from mobile_client_py.offline import Killed
from tests.sync.helpers import draft, phone, written_phone


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


async def test_a_first_login_asks_for_the_next_page_before_applying_the_last(client, factory, tmp_path):
    await written_phone(client, factory, tmp_path / "w.db", 60)

    points: list[str] = []
    reader = phone(
        client.app,
        tmp_path / "r.db",
        await factory.user((Role.COMMUNE_OFFICIAL, "38001")),
        page_bytes=2 * 1024,
        hook=points.append,
    )
    report = await reader.sync()
    assert len(reader.rows("notice")) == 60 and report.requests >= 4
    sends = [p for p in points if p in ("sending", "received", "applied")]
    # Every page but the last: its answer is received, the next request goes, then it is applied.
    pages = report.requests
    assert sends == ["sending"] + ["received", "sending", "applied"] * (pages - 1) + ["received", "applied"]


async def test_a_phone_killed_while_applying_with_the_next_page_asked_for_resumes_with_every_row_once(
    client, factory, tmp_path
):
    _, written = await written_phone(client, factory, tmp_path / "w.db", 60)
    ids = set(written)
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))

    applying = 0

    def kill_on_third_page(point: str) -> None:
        nonlocal applying
        if point == "applying":
            applying += 1
            if applying == 3:
                raise Killed()

    reader = phone(client.app, tmp_path / "r.db", user, page_bytes=2 * 1024, hook=kill_on_third_page)
    with pytest.raises(Killed):
        await reader.sync()
    held = set(reader.rows("notice"))
    assert held and held < ids  # two pages kept, the third rolled back

    revived = phone(client.app, tmp_path / "r.db", user, page_bytes=2 * 1024)
    await revived.sync()
    assert set(revived.rows("notice")) == ids
