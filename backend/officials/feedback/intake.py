"""What handling adds to a report when it arrives: its unit (or the triage queue), its deadlines,
a hint of a likely earlier duplicate, and the folded text the queue searches."""

from __future__ import annotations

import uuid
from typing import Any

from backend.citizen.feedback.tables import Feedback
from backend.lib.i18n import fold
from backend.officials.feedback import deadlines, duplicates, routing
from backend.officials.feedback.tables import FeedbackHandling
from backend.runtime import Runtime


def search_text(row: dict[str, Any]) -> str:
    return fold(" ".join([row["text"], row.get("address") or "", row["token"]]))


async def on_received(rt: Runtime, row: dict[str, Any]) -> dict[str, Any]:
    """Write the handling record of a new report; call inside the transaction that stores it."""
    path = routing.effective_path(rt, row)
    unit = await routing.route(row["category"], path)
    due = await deadlines.deadlines_for(row["category"], row["created_at"])
    values: dict[str, Any] = {
        "id": row["id"],
        "feedback": row["id"],
        "category": row["category"],
        "path": path,
        "created_at": row["created_at"],
        "search": search_text(row),
        "unit": unit,
        "triage": unit is None,
        "ack_due": due.ack_due,
        "answer_due": due.answer_due,
        "remind_at": due.remind_at,
        "possible_duplicate": await duplicates.best_earlier(row),
    }
    await FeedbackHandling.insert(FeedbackHandling(**values))
    return values


async def ensure_all(rt: Runtime, limit: int = 500) -> int:
    """Give every report without a handling record one (reports stored before handling existed,
    or written by a path that skipped intake): nothing lands nowhere."""
    missing = await rt.db.fetch(
        'SELECT f."id" FROM "feedback" f LEFT JOIN "feedback_handling" h ON h."feedback" = f."id" '
        'WHERE h."id" IS NULL LIMIT {}',
        limit,
    )
    count = 0
    for item in missing:
        feedback_id = item["id"] if isinstance(item["id"], uuid.UUID) else uuid.UUID(str(item["id"]))
        async with rt.db.transaction():
            row = await Feedback.select().where(Feedback.id == feedback_id).first()
            if row is None or await FeedbackHandling.exists().where(FeedbackHandling.feedback == feedback_id):
                continue
            await on_received(rt, row)
            count += 1
    return count
