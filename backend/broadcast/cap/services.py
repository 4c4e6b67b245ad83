"""Notices as CAP 1.2 alerts: store one message per notice event, and list the current ones.

The mapping from a notice to an alert is in ``mapping.py``. ``msgType``: a notice's first version
is an Alert, an update an Update, a cancellation or a withdrawal a Cancel. Update and Cancel carry ``references`` to every earlier CAP message of the same
notice thread (``sender,identifier,sent``, space-separated). The identifier is derived from the
notice version and the event, so each notice event yields exactly one message however often the
outbox row is retried."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import msgspec

from backend.broadcast.cap.mapping import build_alert
from backend.broadcast.cap.render import render_alert
from backend.broadcast.cap.schemas import AtomEntry, NoticeEvent
from backend.broadcast.cap.tables import CapMessage
from backend.core.notices.tables import Notice
from backend.core.outbox.services import ClaimedMessage, RetryLater
from backend.core.outbox.tables import OutboxMessage
from backend.lib.errors import NotFound
from backend.runtime import Runtime

log = logging.getLogger(__name__)

EVENTS = ("published", "withdrawn")
MIN_RETRY_SECONDS = 5.0
ATOM_LIMIT = 500


def identifier_for(rt: Runtime, notice_id: uuid.UUID, event: str) -> str:
    """Unique per notice version and event, and free of the spaces and commas CAP forbids."""
    base = f"keng-vn-{rt.settings.province_code}-{notice_id}"
    return base if event == "published" else f"{base}-{event}"


# --- the channel's work ----------------------------------------------------------------------


async def record(rt: Runtime, message: ClaimedMessage) -> str | None:
    """Write the CAP message for one outbox row; returns its identifier (None when none is due)."""
    if message.event not in EVENTS:
        log.info("cap: ignoring outbox %s event %s", message.id, message.event)
        return None
    event = msgspec.convert(message.payload, NoticeEvent)
    # One transaction: one connection for the dozen reads, and the message is written whole or not.
    async with rt.db.transaction():
        return await _record(rt, message, event)


async def _record(rt: Runtime, message: ClaimedMessage, event: NoticeEvent) -> str | None:
    identifier = identifier_for(rt, event.notice_id, message.event)
    if await CapMessage.exists().where(CapMessage.identifier == identifier):
        return identifier
    await _wait_for_earlier(rt, message, event.thread_id)
    notice = await Notice.select().where(Notice.id == event.notice_id).first()
    if notice is None:
        log.warning("cap: outbox %s names notice %s, which does not exist", message.id, event.notice_id)
        return None
    earlier = await (
        CapMessage.select(CapMessage.sender, CapMessage.identifier, CapMessage.sent)
        .where(CapMessage.thread_id == event.thread_id)
        .order_by(CapMessage.id)
    )
    msg_type = _msg_type(message.event, notice["msg_type"], bool(earlier))
    if msg_type is None:
        log.warning(
            "cap: %s of notice %s has no earlier CAP message to refer to", message.event, notice["id"]
        )
        return None
    sent = _sent(rt, message.event, notice)
    alert = await build_alert(
        rt,
        notice,
        identifier=identifier,
        sent=sent,
        msg_type=msg_type,
        earlier=earlier,
        withdrawn=message.event == "withdrawn",
    )
    await CapMessage.insert(
        CapMessage(
            identifier=identifier,
            sender=alert.sender,
            sent=alert.sent,
            msg_type=alert.msg_type,
            status=alert.status,
            scope=alert.scope,
            notice_id=notice["id"],
            thread_id=notice["thread_id"],
            event=message.event,
            outbox_id=message.id,
            references_text=alert.references or "",
            headline=alert.infos[0].headline[:255],
            expires=alert.infos[0].expires,
            xml=render_alert(alert),
            created_at=rt.clock.now(),
        )
    ).on_conflict(target=CapMessage.identifier, action="DO NOTHING")
    return identifier


async def _wait_for_earlier(rt: Runtime, message: ClaimedMessage, thread_id: uuid.UUID) -> None:
    """Keep a thread's CAP messages in order: an update waits for the message it refers to."""
    ids = [str(r["id"]) for r in await Notice.select(Notice.id).where(Notice.thread_id == thread_id)]
    pending = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.available_at).where(
        (OutboxMessage.channel == "cap")
        & (OutboxMessage.status == "pending")
        & (OutboxMessage.id < message.id)
        & OutboxMessage.aggregate_id.is_in(ids or ["-"])
    )
    if pending:
        due = max(r["available_at"] for r in pending)
        wait = max(MIN_RETRY_SECONDS, (due - rt.clock.now()).total_seconds() + 1)
        raise RetryLater(f"earlier CAP message of thread {thread_id} not sent yet", wait)


def _msg_type(event: str, notice_msg_type: str, has_earlier: bool) -> str | None:
    if event == "withdrawn" or notice_msg_type == "cancel":
        return "Cancel" if has_earlier else None
    if notice_msg_type == "update" and has_earlier:
        return "Update"
    return "Alert"


def _sent(rt: Runtime, event: str, notice: dict[str, Any]) -> datetime:
    moment = notice["ended_at"] if event == "withdrawn" else notice["published_at"]
    return (moment or rt.clock.now()).replace(microsecond=0)


# --- reading ---------------------------------------------------------------------------------


async def get_message(rt: Runtime, identifier: str) -> dict[str, Any]:
    row = await (
        CapMessage.select(CapMessage.identifier, CapMessage.sent, CapMessage.xml)
        .where(CapMessage.identifier == identifier)
        .first()
    )
    if row is None:
        raise NotFound("cap_message", details={"identifier": identifier})
    return row


async def current_alerts(rt: Runtime, limit: int = ATOM_LIMIT) -> list[AtomEntry]:
    """The latest message of every thread, unless it is a Cancel or has expired; newest first."""
    rows = await rt.db.fetch(
        'SELECT m."identifier", m."headline", m."sent", m."expires", m."msg_type" FROM "cap_message" m '
        'WHERE m."msg_type" <> \'Cancel\' AND m."expires" > {} AND NOT EXISTS ('
        'SELECT 1 FROM "cap_message" n WHERE n."thread_id" = m."thread_id" AND n."id" > m."id") '
        'ORDER BY m."sent" DESC, m."id" DESC LIMIT {}',
        rt.clock.now(),
        limit,
    )
    return [
        AtomEntry(
            identifier=r["identifier"],
            headline=r["headline"],
            sent=_moment(r["sent"]),
            expires=_moment(r["expires"]),
            msg_type=r["msg_type"],
        )
        for r in rows
    ]


async def last_change(rt: Runtime) -> datetime | None:
    """When the index last changed: the newest message, or the latest expiry already passed."""
    now = rt.clock.now()
    newest = await CapMessage.select(CapMessage.sent).order_by(CapMessage.sent, ascending=False).first()
    expired = await (
        CapMessage.select(CapMessage.expires)
        .where(CapMessage.expires <= now)
        .order_by(CapMessage.expires, ascending=False)
        .first()
    )
    moments = [newest["sent"]] if newest else []
    if expired:
        moments.append(expired["expires"])
    return max(moments) if moments else None


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
