"""Areas on officials' phones: their own subtree and the areas above it (names for the screens),
read-only. Built with the generic :class:`backend.sync.source.TableSource`."""

from __future__ import annotations

from backend.core.areas.tables import Area
from backend.sync import Registry, TableSource


def register(registry: Registry) -> None:
    columns = {"name": Area.name, "level": Area.level, "parent": Area.parent_code, "path": Area.path}
    registry.add(
        TableSource(Area, name="area", id=Area.code, path=Area.path, columns=columns, ancestors=True).synced()
    )
