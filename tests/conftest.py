"""Test harness: every test that takes ``backend`` runs on SQLite + the embedded broker, and also on
PostgreSQL + Mosquitto when ``KENG_TEST_DATABASE_URL`` / ``KENG_TEST_MQTT_URL`` are set.

SQLite gets a fresh file per test. PostgreSQL gets one fresh database per session (created here,
dropped at the end) whose tables are emptied before each test, so no test depends on another."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.adapters.clock import FakeClock, SystemClock
from backend.adapters.mqtt import InMemoryBus
from backend.app import Overrides, create_app
from backend.core.categories import services as categories
from backend.lib import migrations
from backend.lib.db import Database
from backend.runtime import Runtime
from backend.settings import Settings, test_urls
from backend.tables import ALL_TABLES
from tests.factories import Factory

PG_URL, MQTT_URL = test_urls()


@dataclass(frozen=True)
class Backend:
    """One database + broker combination the suite runs on."""

    name: str
    database: str  # "sqlite" or "postgres"
    mqtt_url: str | None  # None = embedded broker on a free port


BACKENDS = [Backend("sqlite+embedded", "sqlite", None)]
if PG_URL or MQTT_URL:
    if not (PG_URL and MQTT_URL):
        raise pytest.UsageError("set both KENG_TEST_DATABASE_URL and KENG_TEST_MQTT_URL, or neither")
    BACKENDS.append(Backend("postgres+mosquitto", "postgres", MQTT_URL))


# What the migrations wrote into the session's PostgreSQL database, table by table.
_PG_SEED: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}


def _with_db(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    if not PG_URL:
        yield None
        return
    name = f"keng_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_with_db(PG_URL, "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _with_db(PG_URL, name)

    async def prepare() -> None:
        async with Database(url).session(ALL_TABLES) as db:
            await migrations.migrate(db)
        conn = await asyncpg.connect(url)
        try:
            for table in ALL_TABLES:
                name = table._meta.tablename
                rows = await conn.fetch(f'SELECT * FROM "{name}"')
                if rows:
                    _PG_SEED[name] = (list(rows[0].keys()), [tuple(r.values()) for r in rows])
        finally:
            await conn.close()

    asyncio.run(prepare())
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
async def database_url(backend: Backend, tmp_path: Path, pg_session_url: str | None) -> str:
    if backend.database == "sqlite":
        return f"sqlite:///{tmp_path / 'keng.db'}"
    assert pg_session_url is not None
    await empty_postgres(pg_session_url)
    return pg_session_url


async def empty_postgres(url: str) -> None:
    """Back to the freshly migrated database: every table emptied, then what the migrations seeded
    (holidays, deadline defaults, counters) put back, so PostgreSQL tests see what SQLite tests see."""
    tables = ", ".join(f'"{t._meta.tablename}"' for t in ALL_TABLES)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            for name, (columns, records) in _PG_SEED.items():
                await conn.copy_records_to_table(name, records=records, columns=columns)
    finally:
        await conn.close()


@pytest.fixture
def settings(backend: Backend, database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        mqtt_url=backend.mqtt_url or "embedded",
        mqtt_port=0,  # the embedded broker picks a free port itself
        # Tests share Mosquitto (and its retained messages) with each other and with other runs.
        mqtt_namespace=f"t{uuid.uuid4().hex[:12]}",
        run_workers=False,
        login_rate_per_minute=1000,
    )


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()


@pytest.fixture
async def rt(settings: Settings, clock: SystemClock | FakeClock) -> AsyncIterator[Runtime]:
    """A runtime on the test database without HTTP (service-level tests)."""
    db = Database(settings.effective_database_url)
    async with db.session(ALL_TABLES):
        await migrations.migrate(db)
        runtime = Runtime.open(settings, db, clock, InMemoryBus())
        await categories.seed_defaults(runtime)
        yield runtime


class AppClient(httpx.AsyncClient):
    """An HTTP client bound to the app in this event loop (Litestar's test client would run the
    app in a thread with its own loop, which a PostgreSQL pool cannot be shared with)."""

    app: Litestar


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Run the app's lifespan in a task of its own: pytest-asyncio may tear a fixture down in
    another task, and the lifespan's cancel scopes must be exited where they were entered."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(settings: Settings, clock: SystemClock | FakeClock) -> AsyncIterator[AppClient]:
    """The whole application over HTTP, with its real lifespan (database, broker, MQTT client)."""
    app = create_app(settings, Overrides(clock=clock))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with AppClient(transport=transport, base_url="http://testserver") as http:
            http.app = app
            yield http


@pytest.fixture
def app_rt(client: AppClient) -> Runtime:
    """The runtime of the app under test, to reach the same database the HTTP calls use."""
    return client.app.state.rt


@pytest.fixture
async def factory(app_rt: Runtime) -> Factory:
    return Factory(app_rt)
