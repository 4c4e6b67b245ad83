"""Small in-process caches that keep only the entries used most recently.

Used where an answer is worth keeping for the next request of the same client (a scan's id list,
a verified access token) but the process must not grow with the number of clients it has seen."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def recall(cache: OrderedDict[K, V], key: K) -> V | None:
    """The kept value, marked as just used; None if it is not kept."""
    value = cache.get(key)
    if value is not None:
        cache.move_to_end(key)
    return value


def keep(cache: OrderedDict[K, V], key: K, value: V, kept: int) -> None:
    """Keep ``value`` as the most recent entry, forgetting the oldest beyond ``kept``."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > kept:
        cache.popitem(last=False)
