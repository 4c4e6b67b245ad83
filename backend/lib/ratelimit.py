"""A fixed-window rate limiter kept in process memory.

Enough for one process; several processes behind a balancer each count separately, which makes
the effective limit N times looser (a shared store would fix that)."""

from __future__ import annotations

import math
from datetime import datetime

from backend.lib.errors import RateLimited


class RateLimiter:
    def __init__(self, limit: int, window_seconds: int = 60, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, now: datetime) -> None:
        """Count one request for ``key``; raise 429 with ``Retry-After`` when over the limit."""
        window = int(now.timestamp()) // self.window
        current_window, count = self._counts.get(key, (window, 0))
        if current_window != window:
            count = 0
        count += 1
        if len(self._counts) >= self.max_keys and key not in self._counts:
            self._counts.clear()
        self._counts[key] = (window, count)
        if count > self.limit:
            retry = math.ceil((window + 1) * self.window - now.timestamp())
            raise RateLimited(details={"retry_after": retry}, headers={"Retry-After": str(max(retry, 1))})
