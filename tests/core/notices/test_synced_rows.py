"""Notices on the phones: the database's check of who may see a kept notice (for pages framed by
the database, and for a first login's whole listing) gives the same answer as
:func:`backend.core.notices.synced_rows.visible`, row by row."""

from __future__ import annotations

import itertools

from backend.core.accounts.permissions import Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.notices import synced_rows
from backend.sync.pull import load_rows, page_rows
from tests.sync.helpers import draft, phone

STATUSES = ["draft", "submitted", "approved", "published", "withdrawn", "expired", "superseded"]
OWNERS = ["/VN/38/38001/", "/VN/38/38002/", "/VN/40/40001/"]
TARGETS = [
    ["/VN/38/38001/"],
    ["/VN/38/"],
    ["/VN/38/38001/38001-01/"],
    ["/VN/40/40001/"],
    ["/VN/38/38002/", "/VN/"],
    [],
]
GRANTS = [
    [(Role.COMMUNE_OFFICIAL, "38001")],
    [(Role.COMMUNE_OFFICIAL, "38001-01")],
    [(Role.COMMUNE_LEADER, "38002"), (Role.COMMUNE_OFFICIAL, "40001")],
    [(Role.PROVINCE_EDITOR, "38")],
    [(Role.FEEDBACK_HANDLER, "38001")],
]


async def test_the_database_and_python_agree_on_who_sees_each_kept_notice(client, factory, tmp_path):
    await factory.tree()
    rt = client.app.state.rt
    writer = phone(client.app, tmp_path / "w.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await writer.sync()
    cases = list(itertools.product(STATUSES, OWNERS, range(len(TARGETS))))
    ids = [writer.create("notice", draft(title=f"Thông báo {i}")) for i in range(len(cases))]
    assert (await writer.sync()).rejected == 0
    # Each notice gets its case without a change of its own, so its kept text stays current and
    # the database frames it if, and only if, it finds the notice visible.
    for row_id, (status, owner, targets) in zip(ids, cases, strict=True):
        await rt.db.execute(
            'UPDATE "notice" SET "status" = {}, "owner_path" = {} WHERE "id" = {}', status, owner, row_id
        )
        await rt.db.execute('DELETE FROM "notice_target" WHERE "notice" = {}', row_id)
        for path in TARGETS[targets]:
            await rt.db.execute(
                'INSERT INTO "notice_target" ("notice", "area_code", "area_path") VALUES ({}, {}, {})',
                row_id,
                path.rstrip("/").rsplit("/", 1)[-1],
                path,
            )
    table = rt.sync_tables.get("notice")
    full = await load_rows(rt, table, ids)
    assert {full[i].raw[0]["status"] for i in ids} == set(STATUSES)
    seen_somewhere = 0
    for grants in GRANTS:
        user = await factory.user(*grants)
        actor = await actor_for_account(rt, user.id, ClientInfo(addr="test", request_id="visible"))
        rows = await page_rows(rt, table, actor, ids, None)
        framed = {i for i, row in rows.items() if row.framed is not None}
        allowed = {i for i in ids if synced_rows.visible(actor, full[i])}
        assert framed == allowed, grants
        # A first login's listing in one statement: the same rows, in order, framed the same.
        listing = await synced_rows.framed_in_scope(rt, actor, len(ids))
        assert listing is not None
        assert [i for i, _ in listing] == sorted(allowed) == sorted(await synced_rows.ids_in_scope(rt, actor))
        assert all(text == rows[i].framed for i, text in listing), grants
        if allowed:
            assert await synced_rows.framed_in_scope(rt, actor, len(allowed) - 1) is None
        seen_somewhere += len(allowed)
    assert 0 < seen_somewhere < len(ids) * len(GRANTS)
