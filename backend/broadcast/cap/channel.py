"""The ``cap`` outbox channel: each notice ``published`` / ``withdrawn`` row becomes one CAP message."""

from __future__ import annotations

from backend.broadcast.cap import services
from backend.core.outbox.services import ClaimedMessage
from backend.runtime import Runtime


async def handle(rt: Runtime, message: ClaimedMessage) -> None:
    """Idempotent per row: a retried row finds its message (same identifier) already written."""
    await services.record(rt, message)
