"""The migration runner on a brand-new database of each engine.

SQLite gets a new file; PostgreSQL a new database ``keng_mig_<random>`` on the test server,
dropped at the end. The session database of the other tests is never touched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from backend import settings as keng_settings
from backend.core.accounts.tables import Account
from backend.core.areas.tables import Area
from backend.core.changes.tables import ChangeCounter
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.tables import OutboxMessage
from backend.lib import migrations
from backend.lib.db import Database
from backend.tables import ALL_TABLES

FIRST = "m0001_core"


def _with_db(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


@pytest.fixture
async def fresh_url(backend, tmp_path: Path) -> AsyncIterator[str]:
    if backend.database == "sqlite":
        path = tmp_path / "fresh" / "mig.db"
        assert not path.exists()
        yield f"sqlite:///{path}"
        return
    pg_url, _ = keng_settings.test_urls()
    assert pg_url, "the postgres backend runs only with KENG_TEST_DATABASE_URL"
    name = f"keng_mig_{uuid.uuid4().hex[:10]}"
    admin_url = _with_db(pg_url, "postgres")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield _with_db(pg_url, name)
    finally:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def db(fresh_url: str) -> AsyncIterator[Database]:
    database = Database(fresh_url)
    async with database.session(ALL_TABLES):
        yield database


async def table_names(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetch(
            'SELECT "name" FROM "sqlite_master" WHERE "type" = \'table\' AND "name" NOT LIKE \'sqlite_%\''
        )
    else:
        rows = await db.fetch(
            'SELECT "table_name" AS "name" FROM information_schema.tables '
            "WHERE \"table_schema\" = 'public' AND \"table_type\" = 'BASE TABLE'"
        )
    return {r["name"] for r in rows}


async def column_names(db: Database, table: str) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetch(f'PRAGMA table_info("{table}")')
        return {r["name"] for r in rows}
    rows = await db.fetch(
        'SELECT "column_name" FROM information_schema.columns '
        'WHERE "table_schema" = \'public\' AND "table_name" = {}',
        table,
    )
    return {r["column_name"] for r in rows}


def all_ids() -> list[str]:
    return [m.id for m in migrations.discover()]


def test_migrations_are_discovered_in_name_order():
    ids = all_ids()
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    assert ids[:2] == [FIRST, "m0002_notices_outbox_changes"]
    for migration in migrations.discover():
        assert migration.ddl("sqlite"), migration.id
        assert migration.ddl("postgres"), migration.id


async def test_a_fresh_database_gets_every_migration_in_order_once(db: Database, fresh_url: str):
    assert await table_names(db) == set()
    assert await migrations.pending(db) == all_ids()

    assert await migrations.migrate(db) == all_ids()
    assert await migrations.applied(db) == all_ids()
    assert await migrations.pending(db) == []

    # Again, in this process and in another one: nothing to do, nothing changed.
    assert await migrations.migrate(db) == []
    other = Database(fresh_url)
    await other.connect()
    try:
        assert await migrations.migrate(other) == []
        assert await migrations.applied(other) == all_ids()
    finally:
        await other.close()
    ledger = await db.fetch('SELECT "id", "applied_at" FROM "keng_migration" ORDER BY "id"')
    assert [r["id"] for r in ledger] == all_ids()
    for r in ledger:
        assert datetime.fromisoformat(r["applied_at"]).tzinfo is not None
    assert await ChangeCounter.select() == [{"id": 1, "value": 0}]


async def test_upgrade_from_the_first_migration_keeps_data(db: Database):
    assert await migrations.migrate(db, target=FIRST) == [FIRST]
    assert await migrations.applied(db) == [FIRST]
    assert await migrations.pending(db) == all_ids()[1:]
    tables = await table_names(db)
    assert {"area", "account", "role_grant", "category", "audit_entry"} <= tables
    assert not {"notice", "outbox_message", "change_log"} & tables
    # Asking for an applied target does nothing.
    assert await migrations.migrate(db, target=FIRST) == []

    account_id = uuid.uuid4()
    await Area.insert(
        Area(
            code="38",
            name="Thanh Hóa",
            name_folded="thanh hoa",
            level="province",
            parent_code=None,
            path="/38/",
            depth=0,
        )
    )
    await Account.insert(Account(id=account_id, kind="staff", username="lan", full_name="Nguyễn Thị Lan"))

    assert await migrations.migrate(db) == all_ids()[1:]
    assert await migrations.pending(db) == []

    area = await Area.select().where(Area.code == "38").first()
    assert area is not None
    assert (area["name"], area["path"], area["level"]) == ("Thanh Hóa", "/38/", "province")
    account = await Account.select().where(Account.id == account_id).first()
    assert account is not None
    assert (account["username"], account["full_name"], account["active"]) == ("lan", "Nguyễn Thị Lan", True)

    # The m0002 tables are usable.
    notice_id = uuid.uuid4()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await Notice.insert(
        Notice(
            id=notice_id,
            thread_id=uuid.uuid4(),
            status="draft",
            category="health",
            priority="normal",
            owner_area="38",
            owner_path="/38/",
            texts={"vi": {"title": "Tiêm chủng", "body": "Sáng thứ Bảy"}},
            created_by=account_id,
            created_at=now,
            updated_at=now,
        )
    )
    await NoticeTarget.insert(NoticeTarget(notice=notice_id, area_code="38", area_path="/38/"))
    await OutboxMessage.insert(OutboxMessage(channel="push", event="notice.published", payload={"a": 1}))

    notice = await Notice.select().where(Notice.id == notice_id).first().output(load_json=True)
    assert notice is not None
    assert notice["texts"] == {"vi": {"title": "Tiêm chủng", "body": "Sáng thứ Bảy"}}
    assert notice["created_by"] == account_id
    assert notice["version"] == 1
    [target] = await NoticeTarget.select().where(NoticeTarget.notice == notice_id)
    assert target["area_path"] == "/38/"
    assert await OutboxMessage.count() == 1
    assert await ChangeCounter.select() == [{"id": 1, "value": 0}]


async def test_an_unknown_target_is_refused_and_applies_nothing(db: Database):
    with pytest.raises(ValueError, match="m0001_cor"):
        await migrations.migrate(db, target="m0001_cor")
    assert await migrations.applied(db) == []
    assert await table_names(db) <= {"keng_migration"}


async def test_a_failing_migration_rolls_back_whole(db: Database, monkeypatch: pytest.MonkeyPatch):
    """Each migration is one transaction: a broken statement leaves neither tables nor a ledger row."""
    real = migrations.discover()
    first = real[0]

    class Broken:
        SQLITE = [*first.module.SQLITE, 'CREATE TABLE "area" ("code" TEXT)']
        POSTGRES = [*first.module.POSTGRES, 'CREATE TABLE "area" ("code" TEXT)']

    monkeypatch.setattr(
        migrations, "discover", lambda: [migrations.Migration(id=first.id, module=Broken), *real[1:]]
    )
    with pytest.raises(Exception, match=r"(?i)already exists"):
        await migrations.migrate(db)
    assert await migrations.applied(db) == []
    assert await table_names(db) == {"keng_migration"}

    monkeypatch.setattr(migrations, "discover", lambda: real)
    assert await migrations.migrate(db) == all_ids()


async def test_the_migrated_schema_matches_the_table_classes(db: Database):
    await migrations.migrate(db)
    expected_tables = {t._meta.tablename for t in ALL_TABLES}
    assert await table_names(db) == expected_tables | {"keng_migration"}
    for table in ALL_TABLES:
        expected = {c._meta.db_column_name for c in table._meta.columns}
        actual = await column_names(db, table._meta.tablename)
        assert actual == expected, (
            f"{table._meta.tablename}: missing {sorted(expected - actual)}, extra {sorted(actual - expected)}"
        )


async def test_outbox_rows_queued_for_devicealarm_move_to_staffinbox(db: Database):
    """m0026: what was queued before the upgrade is delivered after it, under the channel's new name;
    delivered rows and other channels' rows stay as they were."""
    before = "m0025_outbox_precedence"
    await migrations.migrate(db, target=before)
    rows = {
        "pending": OutboxMessage(channel="devicealarm", event="raised", payload={"alarm_id": "a"}),
        "leased": OutboxMessage(
            channel="devicealarm", event="inbox", payload={"ids": [1, 2]}, lease_owner="w-old", attempts=1
        ),
        "dead": OutboxMessage(channel="devicealarm", event="raised", status="dead", attempts=12),
        "done": OutboxMessage(channel="devicealarm", event="raised", status="done"),
        "other": OutboxMessage(channel="push", event="published", payload={"notice": "n"}),
    }
    for row in rows.values():
        await OutboxMessage.insert(row)
    ids = {name: row.id for name, row in rows.items()}

    assert await migrations.migrate(db) == all_ids()[all_ids().index(before) + 1 :]
    after = {
        r["id"]: r
        for r in await OutboxMessage.select(
            OutboxMessage.id, OutboxMessage.channel, OutboxMessage.status, OutboxMessage.payload
        ).output(load_json=True)
    }
    assert {name: after[i]["channel"] for name, i in ids.items()} == {
        "pending": "staffinbox",
        "leased": "staffinbox",
        "dead": "staffinbox",
        "done": "devicealarm",
        "other": "push",
    }
    assert after[ids["pending"]]["payload"] == {"alarm_id": "a"}
    assert after[ids["leased"]]["payload"] == {"ids": [1, 2]}
    assert {name: after[i]["status"] for name, i in ids.items()} == {
        "pending": "pending",
        "leased": "pending",
        "dead": "dead",
        "done": "done",
        "other": "pending",
    }
