"""A small world for property tests of the sync protocol: the real app on the test database, run in
an event loop of its own so that Hypothesis can drive it step by step, restartable like a server
process, and emptied between examples.

Phones are the reference client (``mobile_client_py``) over the fault-injecting transport; the office
works through the ordinary HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
from litestar import Litestar

from backend.app import Overrides, create_app
from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import RoleGrant
from backend.runtime import Runtime
from backend.settings import Settings
from backend.tables import ALL_TABLES
from tests.conftest import empty_postgres, running
from tests.factories import Factory, User

T = TypeVar("T")


class World:
    """The server, started and stopped at will, on one database emptied between examples."""

    def __init__(self, settings: Settings, scratch: Path) -> None:
        self.settings = settings
        self.scratch = scratch
        self.loop = asyncio.new_event_loop()
        self.app: Litestar = create_app(settings, Overrides())
        self._stack: contextlib.AsyncExitStack | None = None
        self.restarts = 0
        self.http: httpx.AsyncClient | None = None
        self.stats: Counter[str] = Counter()  # what the examples exercised, summed

    # -- driving the loop ------------------------------------------------------------------------

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self.run(fn(*args))

    # -- the server process ----------------------------------------------------------------------

    @property
    def rt(self) -> Runtime:
        return self.app.state.rt

    def start(self) -> None:
        async def go() -> None:
            stack = contextlib.AsyncExitStack()
            await stack.enter_async_context(running(self.app))
            self._stack = stack
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50001))
            self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")

        self.run(go())

    def stop(self) -> None:
        if self._stack is None:
            return

        async def go() -> None:
            assert self._stack is not None
            stack, self._stack = self._stack, None
            if self.http is not None:
                await self.http.aclose()
            await stack.aclose()

        self.run(go())
        # In-memory state of the process dies with it (the per-device gate, say).
        with contextlib.suppress(AttributeError):
            del self.app.state.sync_gate

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def fresh(self) -> None:
        """An empty database (schema kept) and a started server: one example's starting point."""
        self.stop()
        url = self.settings.effective_database_url
        if url.startswith("sqlite"):
            path = _sqlite_path(url)
            if Path(path).exists():
                db = sqlite3.connect(path)
                try:
                    for table in ALL_TABLES:
                        db.execute(f'DELETE FROM "{table._meta.tablename}"')
                    db.execute('INSERT INTO "change_counter" ("id", "value") VALUES (1, 0)')
                    db.commit()
                finally:
                    db.close()
        else:
            self.run(empty_postgres(url))
        self.start()

    def backup(self) -> str:
        """A real backup of the database, taken with the server stopped (then started again)."""
        self.stop()
        url = self.settings.effective_database_url
        if url.startswith("sqlite"):
            target = self.tmpdir() / "backup.db"
            with (
                contextlib.closing(sqlite3.connect(_sqlite_path(url))) as src,
                contextlib.closing(sqlite3.connect(target)) as dst,
            ):
                src.backup(dst)
            name = str(target)
        else:
            name = f"{_pg_name(url)}_bk{uuid.uuid4().hex[:6]}"
            self.run(_pg_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{_pg_name(url)}"'))
        self.start()
        return name

    def restore(self, backup: str) -> None:
        """Put the backup back in place of the database, as an operator would after losing it."""
        self.stop()
        url = self.settings.effective_database_url
        if url.startswith("sqlite"):
            with (
                contextlib.closing(sqlite3.connect(backup)) as src,
                contextlib.closing(sqlite3.connect(_sqlite_path(url))) as dst,
            ):
                src.backup(dst)
        else:
            db = _pg_name(url)
            self.run(_pg_admin(url, f'DROP DATABASE "{db}" WITH (FORCE)'))
            self.run(_pg_admin(url, f'CREATE DATABASE "{db}" TEMPLATE "{backup}"'))
            self.run(_pg_admin(url, f'DROP DATABASE "{backup}"'))
        self.start()

    def close(self) -> None:
        self.stop()
        self.loop.close()

    def tmpdir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.scratch))

    # -- data ------------------------------------------------------------------------------------

    @property
    def factory(self) -> Factory:
        return Factory(self.rt)

    async def set_grants(self, user: User, grants: list[tuple[Role, str]]) -> None:
        """The official's role grants change (moved to another commune, given a second one)."""
        async with self.rt.db.transaction():
            await RoleGrant.delete().where(RoleGrant.account == user.id)
            for role, area in grants:
                await RoleGrant.insert(RoleGrant(id=uuid.uuid4(), account=user.id, role=str(role), area=area))


def _sqlite_path(url: str) -> str:
    return url.split("sqlite:///", 1)[1]


def _pg_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
