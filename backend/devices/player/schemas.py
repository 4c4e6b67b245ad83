"""What the player page polls: the board's current signed manifests, exactly as devices get them
over MQTT (the page checks the signatures itself)."""

from __future__ import annotations

from typing import Any

from backend.lib.schema import Schema


class BoardManifests(Schema):
    # The group's e-board playlist envelope, or null when none is in force.
    eboard: dict[str, Any] | None
    # Emergency envelopes in force for any area on the board's path (oldest first).
    emergencies: list[dict[str, Any]]
    # Changes whenever any of the above does; the poll sends it back as If-None-Match.
    etag: str
