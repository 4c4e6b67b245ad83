"""SMS rules: who opted in, what text a notice makes, statistics and delivery receipts.

Who gets an SMS: a citizen who opted in with a phone number and follows an area the notice
reaches (the subscriptions rule). Emergencies go to every such citizen; other notices only to
those who asked for every notice (``notices = all``) and want the notice's category."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from backend.citizen.feed.services import pick_text
from backend.citizen.sms.schemas import (
    SmsEventStats,
    SmsPreview,
    SmsReceiptIn,
    SmsReceiptOut,
    SmsStats,
    SmsSubscriptionIn,
    SmsSubscriptionOut,
    SmsVariant,
)
from backend.citizen.sms.tables import SmsDelivery, SmsSubscription
from backend.citizen.sms.text import Encoding, SmsText, fit
from backend.citizen.subscriptions.services import require_citizen
from backend.core.accounts.permissions import Actor
from backend.core.accounts.tables import Account
from backend.core.notices import services as notices
from backend.core.notices.tables import Notice
from backend.lib.db import json_column
from backend.lib.errors import Forbidden, NotFound, field_error
from backend.runtime import Runtime
from backend.settings import Settings

ENCODINGS: tuple[Encoding, ...] = ("ucs2", "gsm7")
PENDING_STATES = ("pending", "sending", "retry")
PREFIX = {"emergency": "KHẨN CẤP", "update": "CẬP NHẬT", "cancel": "HỦY BỎ", "withdrawn": "THU HỒI"}
WITHDRAWN_TEXT = "Bản tin này đã được thu hồi, không còn hiệu lực."


def default_encoding(settings: Settings) -> Encoding:
    return "gsm7" if settings.sms_encoding.lower() == "gsm7" else "ucs2"


def encoding_for(settings: Settings, choice: str) -> Encoding:
    return choice if choice in ENCODINGS else default_encoding(settings)  # type: ignore[return-value]


# --- opt-in ---------------------------------------------------------------------------------------


def _out(row: dict[str, Any]) -> SmsSubscriptionOut:
    return SmsSubscriptionOut(
        phone=row["phone"],
        notices=row["notices"],
        encoding=row["encoding"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get_subscription(rt: Runtime, actor: Actor) -> SmsSubscriptionOut:
    account_id = require_citizen(actor)
    row = await SmsSubscription.select().where(SmsSubscription.account == account_id).first()
    if row is None:
        raise NotFound("sms_subscription")
    return _out(row)


async def subscribe(rt: Runtime, actor: Actor, data: SmsSubscriptionIn) -> SmsSubscriptionOut:
    """Opt in, or change the number or choices; the same request twice changes nothing."""
    account_id = require_citizen(actor)
    phone = data.phone
    if phone is None:
        account = await Account.select(Account.phone).where(Account.id == account_id).first()
        phone = account["phone"] if account else None
        if not phone:
            raise field_error("phone", "required: no phone number was given at registration")
    now = rt.clock.now()
    async with rt.db.transaction():
        existing = await SmsSubscription.select().where(SmsSubscription.account == account_id).first()
        if existing is None:
            await SmsSubscription.insert(
                SmsSubscription(
                    id=uuid.uuid4(),
                    account=account_id,
                    phone=phone,
                    notices=data.notices,
                    encoding=data.encoding,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif (existing["phone"], existing["notices"], existing["encoding"]) != (
            phone,
            data.notices,
            data.encoding,
        ):
            await SmsSubscription.update(
                {
                    SmsSubscription.phone: phone,
                    SmsSubscription.notices: data.notices,
                    SmsSubscription.encoding: data.encoding,
                    SmsSubscription.updated_at: now,
                }
            ).where(SmsSubscription.account == account_id)
    return await get_subscription(rt, actor)


async def unsubscribe(rt: Runtime, actor: Actor) -> None:
    account_id = require_citizen(actor)
    deleted = await (
        SmsSubscription.delete().where(SmsSubscription.account == account_id).returning(SmsSubscription.id)
    )
    if not deleted:
        raise NotFound("sms_subscription")


# --- text ------------------------------------------------------------------------------------------


def message_for(
    settings: Settings, notice: dict[str, Any], event: str, language: str, encoding: Encoding
) -> SmsText:
    """The SMS of a notice event: a prefix saying what kind of message it is, the title, then the
    summary (or body) cut at a word to at most ``KENG_SMS_MAX_SEGMENTS`` segments."""
    _, text = pick_text(json_column(notice["texts"]), language)
    title = text.get("title", "").strip()
    if event == "withdrawn":
        prefix = PREFIX["withdrawn"]
        tail = WITHDRAWN_TEXT
    else:
        prefix = PREFIX.get(notice["msg_type"]) or PREFIX.get(notice["priority"], "")
        tail = (text.get("summary") or text.get("body", "")).strip()
    if prefix and notice["priority"] == "emergency" and prefix != PREFIX["emergency"]:
        prefix = f"{PREFIX['emergency']} - {prefix}"
    head = f"{prefix}: {title}" if prefix else title
    head = head if head.endswith((".", "!", "?", ":")) else head + "."
    return fit(f"{head} ", " ".join(tail.split()), encoding, max(1, settings.sms_max_segments))


def cost_of(settings: Settings, segments: int) -> int:
    return segments * settings.sms_price_per_segment


async def preview(rt: Runtime, actor: Actor, notice_id: uuid.UUID, language: str = "vi") -> SmsPreview:
    """Both encodings of a notice's SMS with their segments and cost, for staff to compare."""
    await notices.get(rt, actor, notice_id)
    notice = await Notice.select().where(Notice.id == notice_id).first()
    assert notice is not None
    variants = []
    for encoding in ENCODINGS:
        sms = message_for(rt.settings, notice, "published", language, encoding)
        variants.append(
            SmsVariant(
                encoding=encoding,
                text=sms.text,
                segments=sms.segments,
                units=sms.units,
                cost=cost_of(rt.settings, sms.segments),
            )
        )
    return SmsPreview(
        notice_id=notice_id,
        language=language,
        default_encoding=default_encoding(rt.settings),
        variants=variants,
    )


# --- statistics and receipts ----------------------------------------------------------------------


async def stats(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> SmsStats:
    await notices.get(rt, actor, notice_id)  # staff who may see the notice; 403/404 otherwise
    rows = await rt.db.fetch(
        'SELECT "event", "status", "receipt", COUNT(*) AS n, SUM("segments") AS segments, '
        'SUM("cost") AS cost FROM "sms_delivery" WHERE "notice" = {} GROUP BY "event", "status", "receipt"',
        notice_id,
    )
    by_event: dict[str, dict[str, int]] = {}
    for r in rows:
        figures = by_event.setdefault(r["event"], {})
        n = int(r["n"])
        figures[r["status"]] = figures.get(r["status"], 0) + n
        if r["receipt"]:
            figures[f"receipt:{r['receipt']}"] = figures.get(f"receipt:{r['receipt']}", 0) + n
        if r["status"] == "sent":
            figures["segments"] = figures.get("segments", 0) + int(r["segments"] or 0)
            figures["cost"] = figures.get("cost", 0) + int(r["cost"] or 0)
    events = [
        SmsEventStats(
            event=event,
            targeted=sum(f.get(s, 0) for s in ("pending", "sending", "retry", "sent", "failed", "skipped")),
            sent=f.get("sent", 0),
            failed=f.get("failed", 0),
            pending=sum(f.get(s, 0) for s in PENDING_STATES),
            skipped=f.get("skipped", 0),
            delivered=f.get("receipt:delivered", 0),
            undelivered=f.get("receipt:undelivered", 0),
            segments=f.get("segments", 0),
            cost=f.get("cost", 0),
        )
        for event, f in sorted(by_event.items())
    ]
    return SmsStats(notice_id=notice_id, events=events, cost=sum(e.cost for e in events))


def reference_for(notice_id: uuid.UUID | str, event: str, delivery_id: int) -> str:
    """The message's reference at the gateway: the same on every attempt for one recipient."""
    return f"{uuid.UUID(str(notice_id)).hex}-{event[:1]}-{delivery_id}"


def _delivery_id(reference: str) -> int | None:
    tail = reference.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


async def receipt(rt: Runtime, token: str | None, data: SmsReceiptIn) -> SmsReceiptOut:
    """A delivery report from the gateway, authenticated by the shared receipt token."""
    expected = rt.settings.sms_receipt_token
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Forbidden("sms_receipt_token", details={"header": "X-Keng-Sms-Token"})
    if not data.gateway_id and not data.reference:
        raise field_error("gateway_id", "give the gateway's message id or the reference Kẻng sent")
    condition = SmsDelivery.status == "sent"
    if data.gateway_id:
        condition &= SmsDelivery.gateway_id == data.gateway_id
    else:
        delivery_id = _delivery_id(data.reference)
        row = None
        if delivery_id is not None:
            row = await (
                SmsDelivery.select(SmsDelivery.id, SmsDelivery.notice, SmsDelivery.event)
                .where(SmsDelivery.id == delivery_id)
                .first()
            )
        # The reference names the notice and event too: a guessed row id of another message is refused.
        if row is None or reference_for(row["notice"], row["event"], row["id"]) != data.reference:
            return SmsReceiptOut(matched=False)
        condition &= SmsDelivery.id == row["id"]
    rows = await (
        SmsDelivery.update({SmsDelivery.receipt: data.status, SmsDelivery.receipt_at: rt.clock.now()})
        .where(condition)
        .returning(SmsDelivery.id)
    )
    return SmsReceiptOut(matched=bool(rows))
