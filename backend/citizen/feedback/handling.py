"""Staff actions on a report that the citizen sees: a public answer, a request for information,
resolving it. The rules live in ``backend.officials.feedback.flows`` (the whole handling
workflow); these are the short forms the citizen-side code and tests use."""

from __future__ import annotations

import uuid

from backend.core.accounts.permissions import Actor
from backend.officials.feedback.flows import Act, perform
from backend.runtime import Runtime


async def answer(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, text: str) -> None:
    """A public answer; the report becomes ``answered`` and the reopen window starts."""
    await perform(rt, actor, feedback_id, Act("answer", text=text))


async def request_information(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, question: str) -> None:
    """Ask the citizen for more; only then may they add information."""
    await perform(rt, actor, feedback_id, Act("request_info", text=question))


async def resolve(rt: Runtime, actor: Actor, feedback_id: uuid.UUID, note: str = "") -> None:
    """Mark the matter resolved (from an open state or after an answer)."""
    await perform(rt, actor, feedback_id, Act("resolve", text=note))
