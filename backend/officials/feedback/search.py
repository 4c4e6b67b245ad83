"""Reading one queue page, with or without search words.

A page is a keyset range over (sort key, id). Search words are matched in the folded text with
``LIKE '%word%'``, which the trigram index (m0013) serves. With several words PostgreSQL multiplies
their selectivities as if the words were independent, expects a handful of matches and gathers
every match through the index to sort them; words that belong together ("đèn chiếu sáng") match
thousands of reports, and that plan costs tens of milliseconds. So a search page is read in two
steps: first the newest ``WINDOW`` rows of the queue in page order, filtered word by word with an
expression no index serves (the plan walks the sort index and stops at the page's end); only when
that window holds fewer matches than the page needs does the indexed search continue behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw

from backend.officials.feedback.tables import FeedbackHandling as H

WINDOW = 2_000
_CONTAINS = {
    "sqlite": 'instr("feedback_handling"."search", {}) > 0',
    "postgres": 'strpos("feedback_handling"."search", {}) > 0',
}


def after(column: Column, ascending: bool, value: Any, last: Any, *, inclusive: bool = False) -> list[Any]:
    """Rows past (value, last) in page order. The plain bound is implied by the second clause; it is
    there because PostgreSQL starts an index range only at a plain comparison, not at an OR."""
    same = (
        (H.id >= last if inclusive else H.id > last)
        if ascending
        else (H.id <= last if inclusive else H.id < last)
    )
    if ascending:
        return [column >= value, (column > value) | ((column == value) & same)]
    return [column <= value, (column < value) | ((column == value) & same)]


def before(column: Column, ascending: bool, value: Any, last: Any) -> list[Any]:
    """Rows up to and including (value, last) in page order."""
    return after(column, not ascending, value, last, inclusive=True)


async def read(
    dialect: str,
    columns: Sequence[Any],
    where: list[Any],
    words: list[str],
    column: Column,
    ascending: bool,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows matching ``where`` and every word, in (column, id) order."""

    async def rows(clauses: list[Any], count: int) -> list[dict[str, Any]]:
        query = H.select(*columns)
        for clause in clauses:
            query = query.where(clause)
        return (
            await query.order_by(column, ascending=ascending).order_by(H.id, ascending=ascending).limit(count)
        )

    indexed = [H.search.like(f"%{word}%") for word in words]
    if len(words) < 2:
        return await rows(where + indexed, limit)
    query = H.select(column.as_alias("edge"), H.id.as_alias("edge_id"))
    for clause in where:
        query = query.where(clause)
    edge = (
        await query.order_by(column, ascending=ascending)
        .order_by(H.id, ascending=ascending)
        .offset(WINDOW - 1)
        .first()
    )
    scanned = [WhereRaw(_CONTAINS[dialect], word) for word in words]
    if edge is None:  # the whole queue fits in the window
        return await rows(where + scanned, limit)
    found = await rows(where + scanned + before(column, ascending, edge["edge"], edge["edge_id"]), limit)
    if len(found) == limit:
        return found
    rest = after(column, ascending, edge["edge"], edge["edge_id"])
    return found + await rows(where + indexed + rest, limit - len(found))
