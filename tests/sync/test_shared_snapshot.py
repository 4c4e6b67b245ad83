"""The phones of one scope share a first login's snapshot: the next phone starts from the last
snapshot's mark, gets the notices as encoded for the first phone, and pulls what changed since."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.sync import listings, scans
from backend.synced import build_sync_registry
from tests.sync.helpers import count_statements, draft, phone, written_phone


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def made(monkeypatch) -> list[int]:
    """The length of every page compressed by scans from now on."""
    lengths: list[int] = []
    deflate = scans.deflate
    monkeypatch.setattr(scans, "deflate", lambda raw: lengths.append(len(raw)) or deflate(raw))
    return lengths


async def commune_phone(client, factory, path, **options):
    """A fresh phone of another official of commune 38001 (the same grants, so the same scope)."""
    return phone(client.app, path, await factory.user((Role.COMMUNE_OFFICIAL, "38001")), **options)


def reads_notices(statements: list[str]) -> bool:
    return any('FROM "notice"' in s for s in statements)


async def test_the_next_phone_of_a_scope_gets_the_snapshot_without_reading_the_notices(
    client, factory, tmp_path, monkeypatch
):
    _, ids = await written_phone(client, factory, tmp_path / "w.db", 30)
    first = await commune_phone(client, factory, tmp_path / "a.db")
    await first.sync()
    assert set(first.rows("notice")) == set(ids)

    statements = count_statements(client.app.state.rt, monkeypatch)
    # Another account with the same grants, small pages: the snapshot takes several requests.
    second = await commune_phone(client, factory, tmp_path / "b.db", page_bytes=2048)
    report = await second.sync()
    assert report.requests > 2
    assert second.rows("notice") == first.rows("notice")
    assert second.store.get("cursor") == first.store.get("cursor")
    assert not reads_notices(statements), [s for s in statements if "notice" in s]


async def test_a_phone_starting_from_a_shared_snapshot_gets_every_change_made_since(
    client, factory, tmp_path
):
    writer, ids = await written_phone(client, factory, tmp_path / "w.db", 40)
    first = await commune_phone(client, factory, tmp_path / "a.db")
    await first.sync()

    writer.update("notice", ids[0], {"title": "Đổi lịch tiêm"})
    writer.delete("notice", ids[1])
    added = writer.create("notice", draft(title="Thông báo mới"))
    assert (await writer.sync()).rejected == 0

    second = await commune_phone(client, factory, tmp_path / "b.db")
    report = await second.sync()
    # The areas and 40 notices of the first phone's snapshot, then the three changes made since.
    assert report.changes == len(second.rows("area")) + 40 + 3
    await first.sync()
    rows = second.rows("notice")
    assert set(rows) == set(ids) - {ids[1]} | {added}
    assert rows[ids[0]]["title"] == "Đổi lịch tiêm"
    assert rows == first.rows("notice") == writer.rows("notice")


async def test_other_grants_never_share_a_snapshot(client, factory, tmp_path):
    await written_phone(client, factory, tmp_path / "w.db", 5)
    first = await commune_phone(client, factory, tmp_path / "a.db")
    await first.sync()
    elsewhere = phone(client.app, tmp_path / "b.db", await factory.user((Role.COMMUNE_OFFICIAL, "38002")))
    await elsewhere.sync()
    assert elsewhere.rows("notice") == {}
    assert len(first.rows("notice")) == 5


async def test_a_snapshot_is_taken_afresh_after_the_reuse_window_or_many_changes(
    client, factory, tmp_path, monkeypatch, clock
):
    writer, ids = await written_phone(client, factory, tmp_path / "w.db", 30)
    await (await commune_phone(client, factory, tmp_path / "a.db")).sync()
    writer.update("notice", ids[0], {"body": "Lịch mới"})
    await writer.sync()
    statements = count_statements(client.app.state.rt, monkeypatch)

    clock.advance(seconds=client.app.state.rt.settings.sync_snapshot_reuse_s + 1)
    late = await commune_phone(client, factory, tmp_path / "b.db")
    report = await late.sync()
    assert reads_notices(statements)
    # A snapshot at the newest mark (areas and notices), nothing to pull after it.
    assert report.changes == len(late.rows("area")) + 30
    assert late.rows("notice") == writer.rows("notice")

    # Within the window again (the late phone's snapshot is the newest), but after more changes
    # than a phone should pull again.
    monkeypatch.setattr(scans, "REUSE_TAIL", 2)
    for notice_id in ids[:3]:
        writer.update("notice", notice_id, {"body": "Lịch mới hơn"})
    await writer.sync()
    statements.clear()
    after = await commune_phone(client, factory, tmp_path / "c.db")
    report = await after.sync()
    assert reads_notices(statements)
    assert report.changes == len(after.rows("area")) + 30
    assert after.rows("notice") == writer.rows("notice")


def test_only_tables_whose_rows_follow_from_the_grants_are_shared():
    registry = build_sync_registry()
    shared = {t.name for t in registry if t.shared}
    assert shared == {"area", "notice", "feedback", "schedule", "broadcast_log", "training_material"}
    # A completion is one official's; conflicts are few, read for each phone.
    assert {t.name for t in registry} - shared == {"training_completion", "conflict"}


async def test_a_shared_page_is_compressed_once_for_every_phone_of_the_scope(client, factory, tmp_path, made):
    writer, _ = await written_phone(client, factory, tmp_path / "w.db", 40)
    first = await commune_phone(client, factory, tmp_path / "a.db", page_bytes=1024)
    first_report = await first.sync()
    assert first_report.requests > 2
    assert made
    made.clear()
    second = await commune_phone(client, factory, tmp_path / "b.db", page_bytes=1024)
    report = await second.sync()
    assert made == []
    # The same pages, the same bytes on the wire.
    assert (report.requests, report.bytes_down) == (first_report.requests, first_report.bytes_down)
    assert second.rows("notice") == first.rows("notice") == writer.rows("notice")


async def test_an_answer_is_the_same_json_compressed_or_not(client, factory, tmp_path):
    await written_phone(client, factory, tmp_path / "w.db", 20)
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    body = phone(client.app, tmp_path / "a.db", user)._request(False)
    answers = {}
    for encoding in ("gzip", "identity"):
        response = await client.post(
            "/api/v1/sync",
            json=body,
            headers={"Authorization": f"Bearer {user.token}", "Accept-Encoding": encoding},
        )
        assert response.status_code == 200
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers.get("content-encoding") == (encoding if encoding == "gzip" else None)
        answers[encoding] = response.json()
    assert answers["gzip"] == answers["identity"]
    assert len(answers["gzip"]["changes"]) > 20  # the areas and the 20 notices


async def test_a_first_login_reads_the_notices_once_for_all_its_pages(
    client, factory, tmp_path, monkeypatch, clock
):
    writer, ids = await written_phone(client, factory, tmp_path / "w.db", 30)
    rt = client.app.state.rt
    # One notice not kept encoded (written through the web API, say): loaded, encoded and kept.
    await rt.db.execute('DELETE FROM "sync_wire" WHERE "key" = {}', f"notice:{ids[3]}")
    statements = count_statements(rt, monkeypatch)
    first = await commune_phone(client, factory, tmp_path / "a.db", page_bytes=1024)
    report = await first.sync()
    assert report.requests > 3
    assert first.rows("notice") == writer.rows("notice")
    # The listing with every kept notice framed, then the one that was not (the three statements
    # of a page's load for a row whose encoding is not kept): not a statement per page.
    assert len([s for s in statements if 'FROM "notice"' in s]) == 4, statements
    kept = await rt.db.fetchval('SELECT COUNT(*) AS n FROM "sync_wire" WHERE "key" = {}', f"notice:{ids[3]}")
    assert kept == 1

    # Above FRAMED_MAX rows the ids are listed and loaded page by page, to the same rows.
    monkeypatch.setattr(listings, "FRAMED_MAX", 10)
    clock.advance(seconds=rt.settings.sync_snapshot_reuse_s + 1)  # not from the first phone's snapshot
    writer.update("notice", ids[0], {"title": "Đổi lịch tiêm"})
    await writer.sync()
    statements.clear()
    second = phone(
        client.app, tmp_path / "b.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")), page_bytes=1024
    )
    assert (await second.sync()).requests == report.requests
    assert second.rows("notice") == writer.rows("notice")
    assert len([s for s in statements if 'FROM "notice"' in s]) > 3
