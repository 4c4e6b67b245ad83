"""A server restored from a backup, or put on a new epoch by its operator (property 13); conflicts
reach the phone that caused them and leave it once resolved (properties 5, 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.core.notices.tables import Notice
from backend.lib.db import json_column
from backend.sync.tables import SyncConflict, SyncMutation
from tests.factories import notice_body
from tests.sync.helpers import draft, phone
from tests.sync.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(settings, tmp_path):
    w = World(settings, tmp_path)
    w.fresh()
    yield w
    w.close()


def titles(world: World) -> Counter[str]:
    rows = world.run(Notice.select(Notice.texts))
    return Counter(json_column(r["texts"], {})["vi"]["title"] for r in rows)


def effects(world: World, device: str) -> Counter[tuple[int, str]]:
    out: Counter[tuple[int, str]] = Counter()
    for entry in world.run(AuditEntry.select(AuditEntry.action, AuditEntry.details)):
        details = json_column(entry["details"], {})
        if details.get("device") == device:
            out[(int(details["seq"]), entry["action"])] += 1
    return out


def same_as_server(world: World, official, user) -> None:
    from tests.sync.test_convergence import scope_rows

    want = world.run(scope_rows(world, user))
    for table, rows in want.items():
        assert official.store.base_rows(table) == rows, table


def test_a_server_restored_from_backup_gets_back_what_it_lost_exactly_once(world: World) -> None:
    w = world
    w.run(w.factory.tree())
    user = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    office = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    a = phone(w.app, w.tmpdir() / "a.db", user)
    w.run(a.sync())
    first = a.create("notice", draft(title="Trước sao lưu"))
    w.run(a.sync())

    backup = w.backup()
    second = a.create("notice", draft(title="Sau sao lưu"))
    a.update("notice", first, {"title": "Sửa sau sao lưu"})
    w.run(a.sync())  # applied and acknowledged; then the server loses it
    unsent = a.create("notice", draft(title="Chưa gửi"))
    w.restore(backup)

    # The office works on the restored server before the phone comes back: the change numbers the
    # phone knows now name other changes. The phone notices by the tag of its cursor.
    assert w.http is not None
    for i in range(4):
        body = notice_body(texts={"vi": {"title": f"Văn phòng {i}", "body": "Nội dung."}})
        assert w.run(w.http.post("/api/v1/notices", json=body, headers=office.headers)).status_code == 201

    report = w.run(a.sync())
    assert report.resets == ["epoch"]
    assert report.applied == 3  # seq 2 and 3 re-sent (the server had lost them), seq 4 new
    assert a.store.pending() == []
    assert titles(w)["Sau sao lưu"] == 1 and titles(w)["Chưa gửi"] == 1 and titles(w)["Sửa sau sao lưu"] == 1
    assert titles(w)["Trước sao lưu"] == 0
    keys = [
        r["seq"]
        for r in w.run(SyncMutation.select(SyncMutation.seq).where(SyncMutation.device_id == a.device))
    ]
    assert sorted(keys) == [1, 2, 3, 4]
    done = effects(w, a.device)
    assert (
        done[(2, "notice.create")] == 1 and done[(3, "notice.edit")] == 1 and done[(4, "notice.create")] == 1
    )
    assert {second, unsent, first} <= set(a.rows("notice"))
    same_as_server(w, a, user)

    # And again: nothing more is sent or applied.
    again = w.run(a.sync())
    assert again.sent == 0 and again.resets == []


def test_an_operator_starts_a_new_epoch_and_phones_reset_keeping_unsent_work(world: World) -> None:
    w = world
    w.run(w.factory.tree())
    user = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    a = phone(w.app, w.tmpdir() / "a.db", user)
    kept = a.create("notice", draft(title="Đã gửi"))
    w.run(a.sync())
    a.store.put_row("notice", str(uuid.uuid4()), 1, {"title": "rác"})  # a row the server never had
    unsent = a.create("notice", draft(title="Chưa gửi"))

    # The operator's command, as run on the server after a restore (its own process).
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENG_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.cli",
            "sync",
            "new-epoch",
            "--database-url",
            w.settings.effective_database_url,
        ],
        cwd=w.scratch,
        env={**env, "PYTHONPATH": str(ROOT), "KENG_DATA_DIR": str(w.scratch / "cli-data")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "new sync epoch" in done.stdout
    [entry] = w.run(AuditEntry.select().where(AuditEntry.action == "sync.new_epoch"))
    assert json_column(entry["details"], {})["previous"]

    report = w.run(a.sync())
    assert report.resets == ["epoch"] and report.applied == 1
    assert set(a.rows("notice")) == {kept, unsent}
    same_as_server(w, a, user)
    assert titles(w) == Counter({"Đã gửi": 1, "Chưa gửi": 1})


def test_a_conflict_reaches_the_phone_that_caused_it_and_leaves_every_phone_once_resolved(
    world: World,
) -> None:
    w = world
    w.run(w.factory.tree())
    one = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    two = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    a = phone(w.app, w.tmpdir() / "a.db", one)
    b = phone(w.app, w.tmpdir() / "b.db", two)
    notice = a.create("notice", draft())
    w.run(a.sync())
    w.run(b.sync())
    a.update("notice", notice, {"title": "Của A"})
    b.update("notice", notice, {"title": "Của B"})
    w.run(a.sync())
    w.run(b.sync())  # b's edit meets a's: the conflict is b's mutation's side effect
    [conflict] = w.run(SyncConflict.select())
    assert set(b.conflicts()) == {str(conflict["id"])}
    w.run(a.sync())
    assert set(a.conflicts()) == {str(conflict["id"])}
    assert b.rows("notice")[notice]["title"] == "Của B" == a.rows("notice")[notice]["title"]

    b.resolve(str(conflict["id"]), "restore")
    w.run(b.sync())
    assert b.conflicts() == {}  # resolved: no longer in anyone's scope
    assert b.rows("notice")[notice]["title"] == "Của A"  # the losing value written back
    w.run(a.sync())
    assert a.conflicts() == {} and a.rows("notice")[notice]["title"] == "Của A"
    same_as_server(w, a, one)
    same_as_server(w, b, two)


def test_an_integrity_check_finds_a_damaged_replica_and_repairs_only_what_differs(world: World) -> None:
    """Property 10: per-table count and checksum on the last page; bucket digests, then only the
    rows that differ are fetched."""
    w = world
    w.run(w.factory.tree())
    user = w.run(w.factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    a = phone(w.app, w.tmpdir() / "a.db", user)
    ids = [a.create("notice", draft(title=f"Bản tin {i}")) for i in range(40)]
    w.run(a.sync())
    clean = w.run(a.sync(verify=True))
    assert clean.repaired == 0

    # Damage the phone's copy the way a bad flash card or a bug would.
    a.store.drop_row("notice", ids[0])
    version, data = a.store.base("notice", ids[1]) or (0, {})
    a.store.put_row("notice", ids[1], version - 1, {**data, "title": "hỏng"})
    a.store.put_row("notice", str(uuid.uuid4()), 7, {"title": "không có trên máy chủ"})
    report = w.run(a.sync(verify=True))
    # Dropped: the stray row (and the stale copy, when its hash fell in another bucket than the
    # right version's); fetched: the missing row and the right version of the stale one.
    assert report.repaired in (3, 4)
    fetched = [path for _, path, _ in a.transport.log if path == "/api/v1/sync/fetch"]  # type: ignore[attr-defined]
    assert len(fetched) == 1
    same_as_server(w, a, user)
    assert w.run(a.sync(verify=True)).repaired == 0
