"""Database access shared by every domain: one engine per process, bound to all tables.

Piccolo normally finds its engine through a ``piccolo_conf`` module. Kẻng binds the engine
explicitly instead, so one process (the test suite) can run the same code against SQLite and
PostgreSQL one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlparse

import msgspec
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

Dialect = Literal["sqlite", "postgres"]
T = TypeVar("T")
log = logging.getLogger(__name__)
POOL_CLOSE_SECONDS = 10.0
PLAIN_CACHE_KIB = 65536
PLAIN_MMAP_BYTES = 256 * 1024 * 1024


def json_column(value: Any, default: Any = None) -> Any:
    """The value of a JSON column. Piccolo hands JSON back as text (and raw SQL always does), so
    every reader decodes it here; empty text or NULL gives ``default``."""
    if isinstance(value, (str, bytes)):
        return msgspec.json.decode(value) if value else default
    return default if value is None else value


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` → a path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url}")
    return Path(unquote(url[len(prefix) :]))


def postgres_config(url: str) -> dict[str, Any]:
    """asyncpg accepts ``postgres://`` and ``postgresql://`` DSNs as they are."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"not a postgres URL: {url}")
    return {"dsn": url}


async def _keep_session(connection: Any) -> None:
    """What a pooled connection needs before its next user: nothing beyond what asyncpg always does
    (roll back an unfinished transaction, drop listeners). Kẻng keeps no session state on pooled
    connections — no ``SET`` outside a transaction, no ``LISTEN``, advisory locks or cursors — so
    asyncpg's reset statement (unlock, close, unlisten, reset all) would be one more round trip per
    statement run outside a transaction, for nothing."""


class Database:
    """The process's database: engine, dialect and the few primitives Piccolo lacks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine
        if url.startswith("sqlite:"):
            path = sqlite_path(url)
            self.dialect: Dialect = "sqlite"
            # A generous busy timeout: SQLite serialises writers, and a writer must wait, not fail.
            self.engine = SQLiteEngine(path=str(path), timeout=30)
            self.path: Path | None = path
            self._plain: sqlite3.Connection | None = None  # for sqlite_batch, opened on first use
            self._plain_lock = (
                threading.Lock()
            )  # held by the thread using it, even if its caller is cancelled
        elif url.startswith(("postgres:", "postgresql:")):
            self.dialect = "postgres"
            self.engine = PostgresEngine(config=postgres_config(url))
            self.path = None
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:///… or postgres://…")
        self._types: dict[str, dict[str, str]] = {}  # PostgreSQL column types, per table

    def bind(self, tables: Iterable[type[Table]]) -> None:
        for table in tables:
            table._meta.db = self.engine

    async def connect(self) -> None:
        if self.dialect == "sqlite":
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # WAL lets readers proceed while one writer commits; it persists in the file.
            await self.execute_ddl("PRAGMA journal_mode=WAL")
        else:
            assert isinstance(self.engine, PostgresEngine)
            await self.engine.start_connection_pool(min_size=1, max_size=20, reset=_keep_session)

    async def close(self) -> None:
        if self.dialect == "sqlite" and self._plain is not None:
            await asyncio.to_thread(self._close_plain)
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            pool = self.engine.pool
            # asyncpg's close waits for every connection to be released; one held by a task that
            # never gives it back would keep the process from ever stopping.
            try:
                await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
            except TimeoutError:
                log.error(
                    "database: connections still in use %s s after shutdown began; closing them",
                    POOL_CLOSE_SECONDS,
                )
                pool.terminate()
            self.engine.pool = None

    def _close_plain(self) -> None:
        with self._plain_lock:
            if self._plain is not None:
                self._plain.close()
                self._plain = None

    def transaction(self) -> Any:
        """A write transaction. On SQLite it takes the write lock up front (``BEGIN IMMEDIATE``)
        so two writers never deadlock upgrading a read lock."""
        if isinstance(self.engine, SQLiteEngine):
            return self.engine.transaction(transaction_type=TransactionType.immediate)
        return self.engine.transaction()

    def reading(self) -> Any:
        """Several reads in a row on one connection. SQLite otherwise opens a connection per
        statement, so a deferred (read) transaction saves one open per read after the first; never
        write inside it. PostgreSQL reads from its pool anyway, so nothing is opened there."""
        if isinstance(self.engine, SQLiteEngine) and self.engine.current_transaction.get() is None:
            return self.engine.transaction(transaction_type=TransactionType.deferred)
        return contextlib.nullcontext()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run SQL with ``{}`` placeholders (Piccolo's) inside the current transaction, if any."""
        rows = await self.engine.run_querystring(QueryString(sql, *args))
        return list(rows or [])

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        if not rows:
            return None
        return next(iter(rows[0].values()))

    def any_of(self, values: Sequence[Any], sql_type: str) -> tuple[str, list[Any]]:
        """The right-hand side of "column is one of ``values``" and its arguments: one array
        parameter on PostgreSQL (the statement's text stays the same whatever the count, so it is
        prepared once per connection), one placeholder per value on SQLite (keep lists ≤ 500)."""
        if self.dialect == "postgres":
            return f"= ANY({{}}::{sql_type}[])", [list(values)]
        return f"IN ({', '.join('{}' for _ in values)})", list(values)

    async def execute(self, sql: str, *args: Any) -> None:
        await self.engine.run_querystring(QueryString(sql, *args))

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], on_conflict: str = ""
    ) -> None:
        """Insert many rows in the current transaction: one statement taking each column as an
        array on PostgreSQL, one prepared statement run per row (``executemany``) on SQLite. For
        bulk paths — a phone back online with days of records — where building
        an ORM object per row and one statement with thousands of parameters costs more than the
        database's own work. Values go to the driver as they are (UUIDs, aware datetimes, numbers,
        text); JSON columns take their JSON text. ``on_conflict``: an ``ON CONFLICT …`` clause (the
        syntax both databases share), for upserts."""
        if not rows:
            return
        transaction = self.engine.current_transaction.get()
        if transaction is None:
            raise RuntimeError("insert_many runs inside a transaction")
        names = ", ".join(f'"{c}"' for c in columns)
        connection = transaction.connection
        if self.dialect == "postgres":
            # One statement for all rows: each column goes as one array and the rows come back out
            # of unnest; the executor starts once instead of once per row (executemany).
            types = await self._column_types(connection, table)
            arrays = ", ".join(f"${i}::{types[c]}[]" for i, c in enumerate(columns, 1))
            sql = f'INSERT INTO "{table}" ({names}) SELECT * FROM unnest({arrays}) {on_conflict}'
            await connection.execute(sql, *([r[i] for r in rows] for i in range(len(columns))))
            return
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks}) {on_conflict}'
        await connection.executemany(sql, [tuple(r) for r in rows])

    async def _column_types(self, connection: Any, table: str) -> dict[str, str]:
        """PostgreSQL: each column's type as SQL spells it (for the array casts of ``insert_many``),
        read once per table and process (the schema changes only by migration, at start)."""
        types = self._types.get(table)
        if types is None:
            rows = await connection.fetch(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                f'"{table}"',
            )
            types = {r["attname"]: r["type"] for r in rows}
            self._types[table] = types
        return types

    async def execute_ddl(self, sql: str) -> None:
        """Run a statement verbatim: DDL contains literals such as ``'{}'`` that must not be
        read as placeholders."""
        await self.engine.run_ddl(sql)

    async def sqlite_batch(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """SQLite only: ``work(connection)`` in one write transaction (``BEGIN IMMEDIATE`` …
        ``COMMIT``) on a plain sqlite3 connection in a worker thread. Rows come back as tuples,
        without Piccolo's converters; parameters go through the adapters Piccolo registers (UUID,
        datetime), so values are stored exactly as Piccolo stores them. For hot paths that run
        several statements: one thread hop instead of Piccolo's connection and hops per statement.
        One such connection per process, kept open, used by one call at a time. Never call it
        inside a Piccolo transaction: it would wait for that transaction's lock."""
        assert isinstance(self.engine, SQLiteEngine) and self.path is not None
        if self.engine.current_transaction.get() is not None:
            raise RuntimeError("sqlite_batch inside a Piccolo transaction")
        path = str(self.path)

        def run() -> T:
            with self._plain_lock:
                return locked()

        def locked() -> T:
            if self._plain is None:
                plain = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
                plain.execute("PRAGMA foreign_keys = 1")
                # A page cache that survives between calls (SQLite keeps it while no other
                # connection writes) and memory-mapped reads: a fan-out reads and writes the same
                # index pages page after page.
                plain.execute(f"PRAGMA cache_size = -{PLAIN_CACHE_KIB}")
                plain.execute(f"PRAGMA mmap_size = {PLAIN_MMAP_BYTES}")
                self._plain = plain
            connection = self._plain
            connection.execute("BEGIN IMMEDIATE")
            try:
                out = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return out

        return await asyncio.to_thread(run)

    async def ping(self) -> bool:
        try:
            return await self.fetchval("SELECT 1 AS ok") == 1
        except Exception:
            return False

    @contextlib.asynccontextmanager
    async def session(self, tables: Sequence[type[Table]]) -> AsyncIterator[Database]:
        """Bind, connect and close: the lifespan of a process or a test."""
        self.bind(tables)
        await self.connect()
        try:
            yield self
        finally:
            await self.close()
