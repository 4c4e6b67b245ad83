"""Tombstones are kept for the horizon, then pruned; a phone away longer than that is told to reset,
comes back without the deleted rows and keeps its unsent work (properties 6 and 14)."""

from __future__ import annotations

import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.core.notices.tables import Notice
from backend.sync import horizon, wire
from backend.sync.state import get_state
from backend.sync.tables import SyncWire
from tests.sync.helpers import draft, phone
from tests.sync.test_convergence import scope_rows


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_a_phone_older_than_the_horizon_resets_and_keeps_its_unsent_work(
    client, factory, tmp_path, clock
):
    rt = client.app.state.rt
    await factory.tree()
    one = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    two = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    a = phone(client.app, tmp_path / "a.db", one)
    b = phone(client.app, tmp_path / "b.db", two)
    gone = a.create("notice", draft(title="Sẽ bị xoá"))
    stays = a.create("notice", draft(title="Còn lại"))
    await a.sync()
    await b.sync()
    assert set(b.rows("notice")) == {gone, stays}

    # b goes offline for half a year and keeps working; a discards a draft meanwhile.
    b.update("notice", gone, {"title": "Sửa khi đang ngoại tuyến"})
    written = b.create("notice", draft(title="Viết khi ngoại tuyến"))
    a.delete("notice", gone)
    await a.sync()

    clock.advance(days=rt.settings.sync_tombstone_days + 1)
    assert await SyncWire.count().where(SyncWire.key == wire.key("notice", gone)) == 1
    pruned = await horizon.prune(rt)
    assert pruned.rows == 1 and pruned.floor == (await get_state(rt)).floor > 0
    # The deleted row's kept encoding goes with its tombstone; the other row's stays.
    assert await SyncWire.count().where(SyncWire.key == wire.key("notice", gone)) == 0
    assert await SyncWire.count().where(SyncWire.key == wire.key("notice", stays)) == 1
    for official, user in ((a, one), (b, two)):
        official.use_token(factory.token(user.id))  # half a year later: new sign-in

    report = await b.sync()
    assert report.resets == ["horizon"]
    assert set(b.rows("notice")) == {stays, written}  # the deleted draft is not back
    [rejected] = b.rejected()
    assert rejected["id"] == gone and rejected["answer"]["err"]["code"] in ("row_deleted", "not_found")
    assert await Notice.count().where(Notice.id == gone) == 0
    want = await scope_rows(_World(rt), two)
    assert b.store.base_rows("notice") == want["notice"]

    # A phone that was up to date goes on without a reset.
    assert (await a.sync()).resets == []
    assert set(a.rows("notice")) == {stays, written}


class _World:
    """What ``scope_rows`` needs of a world: the runtime."""

    def __init__(self, rt) -> None:
        self.rt = rt
