"""The ``sms`` outbox channel: a published (or withdrawn) notice as one SMS per opted-in phone.

One outbox row per notice and event. The handler plans one delivery row per phone (in one
transaction, idempotently), then claims rows one by one — a conditional UPDATE, so two workers
never send the same row — sends each through the gateway with bounded concurrency and records its
outcome (status, gateway id, segments, cost) before the row is let go. A row recorded as sent is
never sent again. A row claimed by a worker that died mid-request is sent again once its claim
runs out, with the same gateway reference, which the gateway de-duplicates. 408/429/5xx and
network errors leave rows in ``retry`` and the outbox brings the row back after the longest
``Retry-After`` (or its own backoff); after the outbox's last attempt they are ``failed``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from backend.adapters.sms import DEFAULT_TEMPLATE, HttpSmsGateway, SmsGateway, SmsMessage, SmsResult
from backend.citizen.sms.services import cost_of, encoding_for, message_for, reference_for
from backend.citizen.sms.tables import SmsDelivery, SmsSubscription
from backend.citizen.sms.text import SmsText
from backend.citizen.subscriptions.services import subscribers
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import MAX_ATTEMPTS, ClaimedMessage, RetryLater
from backend.runtime import Runtime
from backend.settings import Settings

SENDING_LEASE = timedelta(seconds=120)
CHUNK = 500
CLAIMABLE = ("pending", "retry")


def real_gateway(settings: Settings) -> SmsGateway:
    return HttpSmsGateway(
        settings.sms_gateway_url,
        settings.sms_gateway_template or DEFAULT_TEMPLATE,
        content_type=settings.sms_gateway_content_type,
        sender=settings.sms_sender,
        authorization=settings.sms_gateway_auth,
    )


class SmsChannel:
    """The outbox handler for ``sms``; a gateway client is made per run (its connections with it)."""

    def __init__(self, settings: Settings, gateway: Callable[[], SmsGateway] | None = None) -> None:
        self.settings = settings
        self.gateway_factory = gateway or (lambda: real_gateway(settings))

    async def __call__(self, rt: Runtime, message: ClaimedMessage) -> None:
        if message.event not in ("published", "withdrawn"):
            return
        notice_id = uuid.UUID(message.aggregate_id)
        notice = await Notice.select().where(Notice.id == notice_id).first()
        if notice is None:
            return
        if message.event == "published":
            if notice["status"] != "published":
                await skip_open(rt, notice_id, "published", notice["status"])
                return
            if notice["valid_until"] is not None and notice["valid_until"] <= rt.clock.now():
                await skip_open(rt, notice_id, "published", "validity ended")
                return
            await plan_published(rt, notice)
        else:
            await plan_withdrawn(rt, notice_id)
        await Run(self, rt, notice, message).run()


async def plan_published(rt: Runtime, notice: dict[str, Any]) -> None:
    """One pending row per opted-in phone the notice reaches; repeating it adds nothing."""
    notice_id = notice["id"]
    if await SmsDelivery.exists().where(
        (SmsDelivery.notice == notice_id) & (SmsDelivery.event == "published")
    ):
        return
    targets = await NoticeTarget.select(NoticeTarget.area_path).where(NoticeTarget.notice == notice_id)
    accounts = await subscribers(
        rt, [t["area_path"] for t in targets], notice["category"], notice["priority"]
    )
    emergency = notice["priority"] == "emergency"
    rows: list[SmsDelivery] = []
    now = rt.clock.now()
    for start in range(0, len(accounts), CHUNK):
        part = accounts[start : start + CHUNK]
        opted = await SmsSubscription.select(
            SmsSubscription.account,
            SmsSubscription.phone,
            SmsSubscription.notices,
            SmsSubscription.encoding,
            SmsSubscription.account.language.as_alias("language"),
        ).where(SmsSubscription.account.is_in(part))
        for sub in opted:
            # ``subscribers`` gives active accounts only.
            if not (emergency or sub["notices"] == "all"):
                continue
            rows.append(
                SmsDelivery(
                    notice=notice_id,
                    event="published",
                    account=sub["account"],
                    phone=sub["phone"],
                    language=sub["language"] or "vi",
                    encoding=encoding_for(rt.settings, sub["encoding"]),
                    status="pending",
                    created_at=now,
                )
            )
    async with rt.db.transaction():
        for row in rows:
            await SmsDelivery.insert(row).on_conflict(
                target=(SmsDelivery.notice, SmsDelivery.event, SmsDelivery.phone), action="DO NOTHING"
            )


async def plan_withdrawn(rt: Runtime, notice_id: uuid.UUID) -> None:
    """Tell the phones that got (or may have got) the notice; stop sending it to the others."""
    if await SmsDelivery.exists().where(
        (SmsDelivery.notice == notice_id) & (SmsDelivery.event == "withdrawn")
    ):
        return
    now = rt.clock.now()
    async with rt.db.transaction():
        await skip_open(rt, notice_id, "published", "withdrawn")
        await rt.db.execute(
            'INSERT INTO "sms_delivery" ("notice", "event", "account", "phone", "language", "encoding", '
            '"status", "attempts", "segments", "cost", "gateway_id", "error", "receipt", "created_at") '
            'SELECT "notice", \'withdrawn\', "account", "phone", "language", "encoding", \'pending\', '
            "0, 0, 0, '', '', '', {} FROM \"sms_delivery\" WHERE \"notice\" = {} AND \"event\" = 'published' "
            "AND \"status\" IN ('sent', 'sending') "
            'ON CONFLICT ("notice", "event", "phone") DO NOTHING',
            now,
            notice_id,
        )


async def skip_open(rt: Runtime, notice_id: uuid.UUID, event: str, reason: str) -> None:
    await SmsDelivery.update(
        {SmsDelivery.status: "skipped", SmsDelivery.error: reason[:255], SmsDelivery.done_at: rt.clock.now()}
    ).where(
        (SmsDelivery.notice == notice_id)
        & (SmsDelivery.event == event)
        & SmsDelivery.status.is_in(list(CLAIMABLE))
    )


class Run:
    """One pass over a notice event's open delivery rows."""

    def __init__(
        self, channel: SmsChannel, rt: Runtime, notice: dict[str, Any], message: ClaimedMessage
    ) -> None:
        self.channel = channel
        self.rt = rt
        self.notice = notice
        self.event = message.event
        self.final = message.attempts >= MAX_ATTEMPTS
        self.retry_after: list[float] = []
        self.retries = 0
        self.held = 0
        self._texts: dict[tuple[str, str], SmsText] = {}

    def text(self, language: str, encoding: str) -> SmsText:
        key = (language, encoding)
        if key not in self._texts:
            self._texts[key] = message_for(
                self.rt.settings, self.notice, self.event, language, encoding_for(self.rt.settings, encoding)
            )
        return self._texts[key]

    async def run(self) -> None:
        rt = self.rt
        now = rt.clock.now()
        candidates = await (
            SmsDelivery.select(SmsDelivery.id, SmsDelivery.status, SmsDelivery.claimed_at)
            .where(
                (SmsDelivery.notice == self.notice["id"])
                & (SmsDelivery.event == self.event)
                & SmsDelivery.status.is_in(["pending", "retry", "sending"])
            )
            .order_by(SmsDelivery.id)
        )
        limit = asyncio.Semaphore(max(1, self.channel.settings.sms_concurrency))
        gateway = self.channel.gateway_factory()
        try:

            async def one(row_id: int) -> None:
                async with limit:
                    await self.deliver(gateway, row_id)

            ids = []
            for c in candidates:
                if (
                    c["status"] == "sending"
                    and c["claimed_at"] is not None
                    and c["claimed_at"] >= now - SENDING_LEASE
                ):
                    self.held += 1  # another (live) run is sending it
                else:
                    ids.append(c["id"])
            await asyncio.gather(*(one(i) for i in ids))
        finally:
            await gateway.aclose()
        if self.retries:
            after = min(3600.0, max(self.retry_after)) if self.retry_after else None
            raise RetryLater(f"{self.retries} SMS to retry", after)
        if self.held:
            raise RetryLater("SMS held by another run", SENDING_LEASE.total_seconds())

    async def claim(self, row_id: int) -> dict[str, Any] | None:
        now = self.rt.clock.now()
        claimable = SmsDelivery.status.is_in(list(CLAIMABLE)) | (
            (SmsDelivery.status == "sending") & (SmsDelivery.claimed_at < now - SENDING_LEASE)
        )
        rows = await (
            SmsDelivery.update(
                {
                    SmsDelivery.status: "sending",
                    SmsDelivery.claimed_at: now,
                    SmsDelivery.attempts: SmsDelivery.attempts + 1,
                }
            )
            .where((SmsDelivery.id == row_id) & claimable)
            .returning(SmsDelivery.id, SmsDelivery.phone, SmsDelivery.language, SmsDelivery.encoding)
        )
        return rows[0] if rows else None

    async def deliver(self, gateway: SmsGateway, row_id: int) -> None:
        row = await self.claim(row_id)
        if row is None:
            return
        sms = self.text(row["language"], row["encoding"])
        message = SmsMessage(
            to=row["phone"],
            text=sms.text,
            encoding=sms.encoding,
            segments=sms.segments,
            reference=reference_for(self.notice["id"], self.event, row_id),
        )
        try:
            result = await gateway.send(message)
        except Exception as exc:  # an adapter bug must not leave the row claimed until its lease ends
            result = SmsResult("retry", error=f"{type(exc).__name__}: {exc}"[:255])
        await self.record(row_id, sms, result)

    async def record(self, row_id: int, sms: SmsText, result: SmsResult) -> None:
        status, error = result.outcome, result.error
        if status == "retry":
            if self.final:
                status, error = "failed", f"gave up after repeated retries: {error}"
            else:
                self.retries += 1
                if result.retry_after is not None:
                    self.retry_after.append(result.retry_after)
        values: dict[Any, Any] = {
            SmsDelivery.status: status,
            SmsDelivery.http_status: result.status,
            SmsDelivery.error: error[:255],
            SmsDelivery.claimed_at: None,
        }
        if status == "sent":
            values.update(
                {
                    SmsDelivery.gateway_id: result.gateway_id,
                    SmsDelivery.segments: sms.segments,
                    SmsDelivery.cost: cost_of(self.rt.settings, sms.segments),
                }
            )
        if status != "retry":
            values[SmsDelivery.done_at] = self.rt.clock.now()
        await SmsDelivery.update(values).where((SmsDelivery.id == row_id) & (SmsDelivery.status == "sending"))
