"""Rows kept encoded (``sync_wire``): written by a phone's push and after a page that had to encode a
row, taken by the next page only while the row is at the version it was encoded at."""

from __future__ import annotations

import json
from typing import Any

from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.sync import wire
from backend.sync.pull import change_out, encoded, load_rows, page_rows, wire_change
from backend.sync.registry import Row, SyncedTable
from tests.sync.helpers import draft, phone


async def kept(rt: Any, table: str = "notice") -> dict[str, tuple[int, dict[str, Any]]]:
    rows = await rt.db.fetch('SELECT "key", "version", "body" FROM "sync_wire"')
    prefix = f"{table}:"
    return {
        r["key"][len(prefix) :]: (int(r["version"]), json.loads(r["body"]))
        for r in rows
        if r["key"].startswith(prefix)
    }


async def version_of(rt: Any, row_id: str) -> int:
    return int(
        await rt.db.fetchval(
            'SELECT max("seq") AS "v" FROM "change_log" WHERE "table_name" = \'notice\' AND "row_id" = {}',
            row_id,
        )
    )


async def test_a_push_keeps_its_rows_encoded_and_the_next_phone_gets_that_text(client, factory, tmp_path):
    await factory.tree()
    rt = client.app.state.rt
    writer = phone(client.app, tmp_path / "w.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await writer.sync()
    ids = [writer.create("notice", draft(title=f"Tiêm chủng đợt {i}")) for i in range(3)]  # one batch
    assert (await writer.sync()).applied == 3
    one = writer.create("notice", draft(title="Họp dân"))  # a single create
    writer.update("notice", ids[0], {"title": "Tiêm chủng đợt đầu"})
    assert (await writer.sync()).applied == 2

    entries = await kept(rt)
    assert set(entries) == {*ids, one}
    for row_id in entries:
        version, body = entries[row_id]
        assert version == await version_of(rt, row_id)
        assert body == {k: v for k, v in writer.rows("notice")[row_id].items() if v is not None}
    assert entries[ids[0]][1]["title"] == "Tiêm chủng đợt đầu"

    # The page takes the kept text as it is: a marker put into it reaches the phone.
    version, body = entries[ids[1]]
    await rt.db.execute(
        'UPDATE "sync_wire" SET "body" = {} WHERE "key" = {}',
        json.dumps({**body, "title": "đánh dấu"}),
        wire.key("notice", ids[1]),
    )
    reader = phone(client.app, tmp_path / "r.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await reader.sync()
    assert reader.rows("notice")[ids[1]]["title"] == "đánh dấu"
    assert reader.rows("notice")[ids[2]]["title"] == "Tiêm chủng đợt 2"


async def test_a_row_changed_outside_sync_is_encoded_afresh_and_kept_at_its_new_version(
    client, factory, tmp_path
):
    await factory.tree()
    rt = client.app.state.rt
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    writer = phone(client.app, tmp_path / "w.db", official)
    await writer.sync()
    row_id = writer.create("notice", draft())
    await writer.sync()
    before = (await kept(rt))[row_id][0]

    response = await client.post(f"/api/v1/notices/{row_id}/submit", json={}, headers=official.headers)
    assert response.status_code == 200, response.text
    reader = phone(client.app, tmp_path / "r.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await reader.sync()
    assert reader.rows("notice")[row_id]["status"] == "submitted"  # the stale text was not used

    version, body = (await kept(rt))[row_id]
    assert version == await version_of(rt, row_id) > before
    assert body["status"] == "submitted"
    await writer.sync()
    assert writer.rows("notice")[row_id]["status"] == "submitted"


async def test_a_kept_row_goes_out_byte_for_byte_as_one_encoded_now(client, factory, tmp_path):
    await factory.tree()
    rt = client.app.state.rt
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    writer = phone(client.app, tmp_path / "w.db", user)
    await writer.sync()
    ids = [writer.create("notice", draft(title=f"Tiêm chủng đợt {i}", summary="Tóm tắt")) for i in range(2)]
    await writer.sync()
    table = rt.sync_tables.get("notice")
    actor = await actor_for_account(rt, user.id, ClientInfo(addr="test", request_id="wire"))

    fresh: list = []
    taken = await page_rows(rt, table, actor, ids, fresh)
    # Kept and visible: framed whole by the database, nothing to keep afresh.
    assert fresh == [] and all(row.framed is not None for row in taken.values())
    full = await load_rows(rt, table, ids)
    for row_id in ids:
        assert full[row_id].version == taken[row_id].version
        assert wire_change(table, actor, row_id, taken[row_id]) == encoded(
            change_out(table, actor, row_id, full[row_id])
        )


async def _nothing(*args: Any) -> Any:
    return {}


def test_a_kept_row_is_framed_as_msgspec_would_encode_it_whatever_its_id():
    table = SyncedTable(name="ghi_chú", load=_nothing, ids_in_scope=_nothing, visible=lambda actor, row: True)
    actor = Actor(account_id=None, kind="staff")
    for row_id in ["38001-01", 'a"b', "c\\d", "xã\ttab", "đ\x00"]:
        row = Row(id=row_id, data={}, paths=(), version=42, encoded='{"title":"Tiêm \\"chủng\\""}')
        framed = wire_change(table, actor, row_id, row)
        assert framed == encoded(change_out(table, actor, row_id, row))
        assert json.loads(bytes(framed))["id"] == row_id
    hidden = SyncedTable(
        name="notice", load=_nothing, ids_in_scope=_nothing, visible=lambda actor, row: False
    )
    row = Row(id="x", data={}, paths=(), version=42, encoded="{}")
    assert json.loads(bytes(wire_change(hidden, actor, "x", row))) == {"t": "notice", "id": "x", "rm": True}


async def test_a_rejected_mutation_keeps_nothing(client, factory, tmp_path):
    await factory.tree()
    rt = client.app.state.rt
    writer = phone(client.app, tmp_path / "w.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await writer.sync()
    outside = writer.create("notice", draft(targets=["38002"]))
    report = await writer.sync()
    assert report.rejected == 1
    assert outside not in await kept(rt)
