"""Phones for sync tests: the reference offline client talking to the app in this event loop,
through a fault-injecting transport, never sleeping for real."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from backend.core.accounts.permissions import Role
from mobile_client_py.offline import Backoff, OfflineOfficial
from mobile_client_py.store import Store
from mobile_client_py.transport import AsgiTransport, Fault, FaultyTransport
from tests.factories import User


class Sleeps:
    """Records the delays a client asked for instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def phone(
    app: Any,
    path: Path,
    user: User,
    plan: Sequence[Fault] = (),
    *,
    page_bytes: int = 64 * 1024,
    protocol: int = 2,
    hook: Any = None,
    sleeps: Sleeps | None = None,
) -> OfflineOfficial:
    sleeps = sleeps or Sleeps()
    transport = FaultyTransport(AsgiTransport(app), list(plan), sleep=sleeps)
    http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    official = OfflineOfficial(
        Store(path),
        http,
        sleep=sleeps,
        backoff=Backoff(attempts=30),
        page_bytes=page_bytes,
        protocol=protocol,
        hook=hook,
    )
    official.use_token(user.token)
    official.transport = transport  # type: ignore[attr-defined]
    return official


def draft(
    title: str = "Tiêm chủng", body: str = "Tiêm chủng cho trẻ em tại trạm y tế xã.", **extra: Any
) -> dict:
    fields = {"title": title, "body": body, "category": "health", "priority": "normal", "targets": ["38001"]}
    fields.update(extra)
    return fields


async def written_phone(
    client: Any, factory: Any, path: Path, count: int
) -> tuple[OfflineOfficial, list[str]]:
    """A commune official's phone (in the area tree of ``factory``) that has pushed ``count``
    notice drafts, all accepted."""
    await factory.tree()
    writer = phone(client.app, path, await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await writer.sync()
    ids = [writer.create("notice", draft(title=f"Tiêm chủng đợt {i}")) for i in range(count)]
    assert (await writer.sync()).rejected == 0
    return writer, ids


def count_statements(rt: Any, monkeypatch: Any) -> list[str]:
    """Every statement the app's database engine runs from now on (ORM queries and plain SQL)."""
    seen: list[str] = []
    engine = rt.db.engine
    kind = type(engine)
    run = kind.run_querystring

    async def counted(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        if self is engine:
            seen.append(str(querystring.template))
        return await run(self, querystring, *args, **kwargs)

    monkeypatch.setattr(kind, "run_querystring", counted)
    return seen
