"""API contract for reading manifests (staff view)."""

from __future__ import annotations

from typing import Any

from backend.lib.schema import Schema


class ManifestView(Schema):
    """The signed envelope as sent, and its payload decoded for reading."""

    envelope: dict[str, Any]
    payload: dict[str, Any]


class ManifestList(Schema):
    items: list[ManifestView]
    emergencies: list[ManifestView]
