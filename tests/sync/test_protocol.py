"""Versions of the protocol (property 14): a phone still on protocol 1 syncs, a phone upgraded with
weeks of protocol-1 mutations in its queue sends them after the server upgrade and each applies
exactly once, and an unknown version is refused with the versions the server speaks."""

from __future__ import annotations

from backend.core.accounts.permissions import Role
from backend.core.notices.tables import Notice
from backend.sync.tables import SyncConflict, SyncMutation
from tests.sync.helpers import draft, phone


async def test_an_old_phone_and_then_its_upgraded_app_sync_their_queue_exactly_once(
    client, factory, tmp_path
):
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    office = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    old = phone(client.app, tmp_path / "p.db", user, protocol=1)
    await old.sync()
    notice = old.create("notice", draft(title="Bản cũ"))
    report = await old.sync()
    assert report.applied == 1

    # Weeks offline on the old app: edits queued in the old shape (no per-field base values).
    old.update("notice", notice, {"priority": "priority"})
    later = old.create("notice", draft(title="Viết tuần trước"))
    assert [m["proto"] for m in old.store.pending()] == [1, 1]
    # Meanwhile the office edits the title on the web.
    current = (await client.get(f"/api/v1/notices/{notice}", headers=office.headers)).json()
    texts = {"vi": {**current["texts"]["vi"], "title": "Văn phòng sửa"}}
    edited = await client.patch(
        f"/api/v1/notices/{notice}",
        json={"row_version": current["row_version"], "texts": texts},
        headers=office.headers,
    )
    assert edited.status_code == 200

    # The server is upgraded, then the app: same local store, protocol 2, the old queue still there.
    old.store.close()
    new = phone(client.app, tmp_path / "p.db", user, plan=["drop_response"])
    assert new.protocol == 2
    new.update("notice", later, {"body": "Nội dung mới, sửa sau khi nâng cấp."})
    report = await new.sync()
    assert report.rejected == 0 and report.applied == 3 and report.retries == 1  # answer lost once
    rows = new.rows("notice")
    # Untouched fields merge: the office's title stays, the old phone's priority goes in. Protocol 1
    # knows only that the row moved since the phone saw it, so the priority counts as changed on
    # both sides: the max rule decides and a conflict is recorded for the official to see.
    assert rows[notice]["title"] == "Văn phòng sửa" and rows[notice]["priority"] == "priority"
    assert rows[later]["body"] == "Nội dung mới, sửa sau khi nâng cấp."
    [conflict] = await SyncConflict.select()
    assert (conflict["field"], conflict["rule"]) == ("priority", "max")
    ledger = await SyncMutation.select(SyncMutation.seq).where(SyncMutation.device_id == new.device)
    assert sorted(r["seq"] for r in ledger) == [1, 2, 3, 4]
    assert await Notice.count() == 2


async def test_an_unknown_protocol_version_is_refused_naming_the_supported_ones(client, factory):
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    answer = await client.post(
        "/api/v1/sync", json={"protocol": 3, "device": "d-12345678", "mutations": []}, headers=user.headers
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "protocol_unsupported" and error["details"]["supported"] == [1, 2]
    # Nothing about the device was stored.
    assert await SyncMutation.count() == 0
