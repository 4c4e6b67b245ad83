"""Stopping the database must not wait forever for a connection a task never gives back."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from backend.lib import db as db_module
from backend.lib.db import Database
from backend.tables import ALL_TABLES


async def test_shutdown_does_not_wait_forever_for_a_connection_never_given_back(
    database_url, backend, monkeypatch, caplog
):
    monkeypatch.setattr(db_module, "POOL_CLOSE_SECONDS", 0.2)
    caplog.set_level(logging.ERROR, logger="backend.lib.db")
    held, release = asyncio.Event(), asyncio.Event()
    database = Database(database_url)

    async def hold() -> None:
        async with database.transaction():
            await database.fetch("SELECT 1 AS x")
            held.set()
            await release.wait()

    closing = None
    async with database.session(ALL_TABLES):
        task = asyncio.create_task(hold())
        await held.wait()
        closing = asyncio.create_task(database.close())
        # A hang guard, not a speed limit: without the bound, close never returns on PostgreSQL.
        await asyncio.wait_for(asyncio.shield(closing), 30)
        if backend.database == "postgres":
            assert "still in use" in caplog.text and database.engine.pool is None
        release.set()
        with contextlib.suppress(Exception):
            await task
    assert closing.done() and closing.exception() is None
