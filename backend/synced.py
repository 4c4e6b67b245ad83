"""The tables officials' phones sync, one line per domain.

A domain adds its tables in its own ``synced.py`` (a ``register(registry)`` function built on
``backend.sync``) and one line here. Order matters only for snapshots: parents before children."""

from __future__ import annotations

from backend.broadcast import synced as broadcast
from backend.core.areas import synced as areas
from backend.core.notices import synced as notices
from backend.officials.feedback import synced as feedback
from backend.sync import conflicts
from backend.sync.registry import Registry
from backend.training import synced as training


def build_sync_registry() -> Registry:
    registry = Registry()
    areas.register(registry)
    notices.register(registry)
    feedback.register(registry)
    broadcast.register(registry)
    training.register(registry)
    registry.add(conflicts.synced_table(registry))
    return registry
