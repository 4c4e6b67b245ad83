"""Likely duplicates: same category, close in space and time, similar text.

Text is compared folded (lower case, no diacritics, ``đ`` → ``d``), so "Đèn đường hỏng" and
"den duong hong" are the same words. The score mixes word overlap (Jaccard on words) with
character-trigram overlap, which survives typos and run-together words."""

from __future__ import annotations

import math
import re
import uuid
from datetime import timedelta
from typing import Any

from backend.citizen.feedback.tables import Feedback
from backend.lib.i18n import fold

NEARBY_METRES = 50.0
WINDOW_DAYS = 14
THRESHOLD = 0.35
MAX_CANDIDATES = 500
MAX_SUGGESTIONS = 5
IGNORED_STATES = ("duplicate", "rejected")

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text)) if len(w) > 1}


def trigrams(text: str) -> set[str]:
    squeezed = " " + " ".join(_WORD.findall(fold(text))) + " "
    return {squeezed[i : i + 3] for i in range(len(squeezed) - 2)}


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(a: str, b: str) -> float:
    return round(0.5 * _jaccard(words(a), words(b)) + 0.5 * _jaccard(trigrams(a), trigrams(b)), 3)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def nearby(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if None not in (a["lat"], a["long"], b["lat"], b["long"]):
        return haversine_m(a["lat"], a["long"], b["lat"], b["long"]) <= NEARBY_METRES
    return a["area_code"] is not None and a["area_code"] == b["area_code"]


async def suggest(row: dict[str, Any]) -> list[tuple[dict[str, Any], float]]:
    """Earlier or later reports that look like the same matter, best first."""
    span = timedelta(days=WINDOW_DAYS)
    candidates = (
        await Feedback.select(
            Feedback.id,
            Feedback.token,
            Feedback.category,
            Feedback.status,
            Feedback.area_code,
            Feedback.lat,
            Feedback.long,
            Feedback.text,
            Feedback.created_at,
        )
        .where(
            (Feedback.category == row["category"])
            & (Feedback.created_at >= row["created_at"] - span)
            & (Feedback.created_at <= row["created_at"] + span)
            & (Feedback.id != row["id"])
            & Feedback.status.not_in(list(IGNORED_STATES))
        )
        .order_by(Feedback.created_at, ascending=False)
        .limit(MAX_CANDIDATES)
    )
    scored = []
    for other in candidates:
        if not nearby(row, other):
            continue
        score = similarity(row["text"], other["text"])
        if score >= THRESHOLD:
            scored.append((other, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0]["created_at"]))
    return scored[:MAX_SUGGESTIONS]


async def best_earlier(row: dict[str, Any]) -> uuid.UUID | None:
    """At intake: the most similar report that came before this one, if any."""
    for other, _ in await suggest(row):
        if other["created_at"] <= row["created_at"]:
            return other["id"]
    return None
