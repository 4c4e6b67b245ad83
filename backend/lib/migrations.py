"""A small, explicit migration runner.

Migrations are modules in ``backend/migrations`` named ``mNNNN_<what>.py``, applied in name order.
Each holds frozen DDL for both dialects (so a migration never changes when a table class does) and
may add an ``async def forwards(db)`` for data steps. Applied ids are kept in ``keng_migration``;
each migration runs in its own transaction (both engines support transactional DDL).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

from backend.lib.db import Database

MIGRATIONS_PACKAGE = "backend.migrations"

_LEDGER_DDL = (
    'CREATE TABLE IF NOT EXISTS "keng_migration" ('
    '"id" VARCHAR(128) PRIMARY KEY NOT NULL, "applied_at" VARCHAR(40) NOT NULL)'
)


@dataclass(frozen=True)
class Migration:
    id: str
    module: ModuleType

    def ddl(self, dialect: str) -> list[str]:
        return list(getattr(self.module, dialect.upper(), []))


def discover() -> list[Migration]:
    package = importlib.import_module(MIGRATIONS_PACKAGE)
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("m"))
    return [
        Migration(id=name, module=importlib.import_module(f"{MIGRATIONS_PACKAGE}.{name}")) for name in names
    ]


async def applied(db: Database) -> list[str]:
    await db.execute_ddl(_LEDGER_DDL)
    rows = await db.fetch('SELECT "id" FROM "keng_migration" ORDER BY "id"')
    return [row["id"] for row in rows]


async def migrate(db: Database, *, target: str | None = None) -> list[str]:
    """Apply pending migrations up to and including ``target`` (all when None); return what ran."""
    known = discover()
    if target is not None and target not in {m.id for m in known}:
        # Without this a mistyped ``--to`` would run every pending migration.
        raise ValueError(f"unknown migration {target!r}")
    done = set(await applied(db))
    ran: list[str] = []
    for migration in known:
        if migration.id in done:
            if migration.id == target:
                break
            continue
        async with db.transaction():
            for statement in migration.ddl(db.dialect):
                await db.execute_ddl(statement)
            forwards = getattr(migration.module, "forwards", None)
            if forwards is not None:
                await forwards(db)
            await db.execute(
                'INSERT INTO "keng_migration" ("id", "applied_at") VALUES ({}, {})',
                migration.id,
                datetime.now(UTC).isoformat(),
            )
        ran.append(migration.id)
        if migration.id == target:
            break
    return ran


async def pending(db: Database) -> list[str]:
    done = set(await applied(db))
    return [m.id for m in discover() if m.id not in done]
