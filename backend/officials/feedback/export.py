"""The queue as CSV: the same scope, filters, search and order as the queue, every page of it, one
row per report.

Who reported appears only where the queue's own rule allows it (a role that may see identities, a
report that is not anonymous); otherwise the reporter columns stay empty and ``anonymous`` says why.
Free text that a spreadsheet would run as a formula is prefixed with a quote. The file starts with a UTF-8
byte-order mark so spreadsheet programs keep the diacritics. Each export is audited with its
filters before the first byte leaves."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec

from backend.citizen.feedback.tables import Feedback
from backend.core.accounts.permissions import Actor
from backend.core.accounts.tables import Account
from backend.core.audit import services as audit
from backend.officials.feedback import services
from backend.officials.feedback.deadlines import VN_TZ
from backend.officials.feedback.schemas import QueueFilter, QueueItem
from backend.runtime import Runtime

PAGE = 500
HEADER = [
    "token",
    "status",
    "category",
    "area_code",
    "created_at",
    "ack_due",
    "answer_due",
    "overdue",
    "unit",
    "assignee",
    "text",
    "address",
    "anonymous",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guarded(text: str) -> str:
    """Text someone outside the office wrote (a report, an address, a name): a leading character
    that makes a spreadsheet evaluate the cell is defused with a quote."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "astimezone"):
        return value.astimezone(VN_TZ).isoformat()
    return str(value)


def _csv(rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


async def _lines(actor: Actor, items: list[QueueItem]) -> str:
    if not items:
        return ""
    reports = {
        r["id"]: r
        for r in await Feedback.select(
            Feedback.id,
            Feedback.text,
            Feedback.address,
            Feedback.anonymous,
            Feedback.contact,
            Feedback.account,
        ).where(Feedback.id.is_in([i.id for i in items]))
    }
    shown = {i.id for i in items if services.may_see_reporter(actor, reports[i.id], i.path)}
    accounts = {
        a["id"]: a
        for a in (
            await Account.select(Account.id, Account.full_name, Account.phone).where(
                Account.id.is_in([reports[i]["account"] for i in shown if reports[i]["account"]])
            )
            if any(reports[i]["account"] for i in shown)
            else []
        )
    }
    assignees = await services.account_names({i.handling.assignee for i in items})
    rows = []
    for item in items:
        report = reports[item.id]
        who = services.reporter_out(report, accounts.get(report["account"])) if item.id in shown else None
        h = item.handling
        rows.append(
            [
                item.token,
                item.status,
                item.category,
                item.area_code,
                item.created_at,
                h.ack_due,
                h.answer_due,
                h.overdue,
                h.unit_name or "",
                assignees.get(h.assignee, ""),
                guarded(report["text"]),
                guarded(report["address"]),
                report["anonymous"],
                guarded(who.name) if who else "",
                guarded(who.phone) if who else "",
                guarded(who.email) if who else "",
            ]
        )
    return _csv(rows)


async def export_csv(rt: Runtime, actor: Actor, flt: QueueFilter) -> AsyncIterator[str]:
    """Check access and filters and read the first page now (so a refusal is an ordinary error
    response), audit, then hand back the text of the file piece by piece."""
    flt = msgspec.structs.replace(flt, cursor=None, limit=PAGE)
    first = await services.queue(rt, actor, flt)
    filters = {k: str(v) for k, v in msgspec.structs.asdict(flt).items() if v is not None and k != "limit"}
    async with rt.db.transaction():
        await audit.record(rt, actor, "feedback.export", target_type="feedback", details=filters)

    async def chunks() -> AsyncIterator[str]:
        yield "\ufeff" + _csv([HEADER])
        page = first
        while True:
            yield await _lines(actor, page.items)
            if page.next_cursor is None:
                return
            page = await services.queue(rt, actor, msgspec.structs.replace(flt, cursor=page.next_cursor))

    return chunks()
