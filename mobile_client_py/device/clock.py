"""Time for simulated devices: when to play, and waiting until then.

``RealClock`` sleeps; ``ManualClock`` moves only when a test advances it and wakes every device
waiting for a moment it passed, so a ten-minute emergency plays out in no time and in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

SCHEMA = 1


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, as devices write times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SimClock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, moment: datetime) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds()))


class Follower(Protocol):
    def set(self, moment: datetime) -> None: ...


class ManualClock:
    """A clock that moves when told. ``follow`` (e.g. the server's fake clock) is set to the same
    moment on every move, so server and devices share one time."""

    def __init__(self, start: datetime | None = None, follow: Follower | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._follow = follow
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment
        if self._follow is not None:
            self._follow.set(moment)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, **delta: float) -> datetime:
        self.set(self._now + timedelta(**delta))
        return self._now

    async def sleep_until(self, moment: datetime) -> None:
        while self._now < moment:
            await self._moved.wait()
