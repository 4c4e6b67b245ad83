"""The ``push`` outbox channel: fan a published (or withdrawn) notice out to every subscribed device.

One outbox row per notice and event. The handler plans one delivery row per device, then claims
pages of them and sends each page with bounded concurrency — Web Push through a ``WebPushSender``,
FCM in multicast batches through an ``FcmSender`` when credentials are configured — and records
every outcome before taking the next page. A rerun (a retry, or another worker after a crash)
sends only what is not yet recorded as done. 429/5xx answers leave rows in ``retry`` and the
handler asks the outbox to come back after the longest ``Retry-After`` (or its own backoff)."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from backend.adapters.push import (
    FcmSender,
    FirebaseFcmSender,
    PushOptions,
    PyWebPushSender,
    SendResult,
    VapidSigner,
    WebPushBatch,
    WebPushSender,
    WebPushTarget,
    send_each,
)
from backend.citizen.push import deliveries, outcomes
from backend.citizen.push.deliveries import Row
from backend.citizen.push.services import vapid_keys
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import MAX_ATTEMPTS, ClaimedMessage, RetryLater
from backend.lib.db import json_column
from backend.runtime import Runtime
from backend.settings import Settings

log = logging.getLogger(__name__)

PAGE = 500
MAX_PAYLOAD = 3000  # bytes of JSON before encryption; RFC 8291 leaves 3,993 and some services take less
MAX_TTL = 28 * 24 * 3600  # the longest any push service keeps a message
WITHDRAW_TTL = 24 * 3600
URGENCY = {"emergency": "high"}
REMOVED = SendResult("skipped", error="registration removed")  # immutable: one serves every row


def ttl_for(notice: dict[str, Any], event: str, now: datetime) -> int | None:
    """Seconds of validity left (at least 1, at most 28 days); None when nothing is left to say."""
    valid_until = notice["valid_until"]
    if valid_until is None:
        return MAX_TTL
    remaining = (valid_until - now).total_seconds()
    if remaining <= 0:
        return None if event == "published" else WITHDRAW_TTL
    return min(MAX_TTL, max(1, math.ceil(remaining)))


def options_for(notice: dict[str, Any], ttl: int) -> PushOptions:
    # RFC 8030 Topic: at most 32 base64url characters; the thread id in hex is exactly that, so
    # an update or cancellation replaces an older version the device has not received yet.
    topic = uuid.UUID(str(notice["thread_id"])).hex
    return PushOptions(ttl=ttl, urgency=URGENCY.get(notice["priority"], "normal"), topic=topic)  # type: ignore[arg-type]


def message_for(notice: dict[str, Any], event: str, language: str) -> dict[str, str]:
    """The push payload: ids, title and summary only (the app fetches the rest), ≤ 3 KB as JSON."""
    texts = json_column(notice["texts"])
    text = texts.get(language) or texts["vi"]
    summary = text.get("summary") or text.get("body", "")
    out = {
        "type": "notice",
        "event": event,
        "id": str(notice["id"]),
        "thread_id": str(notice["thread_id"]),
        "version": str(notice["version"]),
        "priority": notice["priority"],
        "category": notice["category"],
        "title": text["title"][:200],
        "summary": summary,
    }
    while len(msgspec.json.encode(out)) > MAX_PAYLOAD:
        excess = len(msgspec.json.encode(out)) - MAX_PAYLOAD
        # Cut by characters at least a third of the excess bytes (Vietnamese is ≤ 3 bytes a char).
        keep = max(0, len(out["summary"]) - max(1, excess // 3) - 1)
        out["summary"] = out["summary"][:keep].rstrip() + "…"
    return out


class PushChannel:
    """The outbox handler for ``push``; senders are made per fan-out (their connections with it)."""

    def __init__(
        self,
        settings: Settings,
        *,
        webpush: Callable[[], WebPushSender] | None = None,
        fcm: Callable[[], FcmSender] | None = None,
    ) -> None:
        self.settings = settings
        self._signer: VapidSigner | None = None
        if webpush is None:
            vapid_keys(settings)  # generated on first start, so the public key is there for browsers
        self.webpush_factory = webpush or self._real_webpush
        self.fcm_factory = fcm or (self._real_fcm if settings.fcm_credentials else None)

    def _real_webpush(self) -> WebPushSender:
        if self._signer is None:
            self._signer = VapidSigner(vapid_keys(self.settings), self.settings.vapid_subject)
        return PyWebPushSender(self._signer, per_origin=self.settings.push_concurrency)

    def _real_fcm(self) -> FcmSender:
        assert self.settings.fcm_credentials is not None
        return FirebaseFcmSender(self.settings.fcm_credentials, self.settings.fcm_endpoint)

    async def __call__(self, rt: Runtime, message: ClaimedMessage) -> None:
        if message.event not in ("published", "withdrawn"):
            return
        notice_id = uuid.UUID(message.aggregate_id)
        notice = await Notice.select().where(Notice.id == notice_id).first()
        if notice is None:
            return
        if message.event == "published":
            if notice["status"] != "published":
                await deliveries.skip_open(rt, notice_id, "published", notice["status"])
                return
            targets = await NoticeTarget.select(NoticeTarget.area_path).where(
                NoticeTarget.notice == notice_id
            )
            await deliveries.plan_published(
                rt, notice_id, [t["area_path"] for t in targets], notice["category"], notice["priority"]
            )
        else:
            await deliveries.plan_withdrawn(rt, notice_id)
        await FanOut(self, rt, notice, message).run()


class FanOut:
    """One run over a notice's open delivery rows."""

    def __init__(
        self, channel: PushChannel, rt: Runtime, notice: dict[str, Any], message: ClaimedMessage
    ) -> None:
        self.channel = channel
        self.rt = rt
        self.notice = notice
        self.notice_id: uuid.UUID = notice["id"]
        self.event = message.event
        self.final = message.attempts >= MAX_ATTEMPTS
        self.concurrency = max(1, channel.settings.push_concurrency)
        self.retry_after: list[float] = []
        self.retries = 0
        self._payloads: dict[str, bytes] = {}
        self._messages: dict[str, dict[str, str]] = {}
        self.webpush: WebPushSender | None = None
        self.fcm: FcmSender | None = None

    def message(self, language: str) -> dict[str, str]:
        if language not in self._messages:
            self._messages[language] = message_for(self.notice, self.event, language)
        return self._messages[language]

    def payload(self, language: str) -> bytes:
        if language not in self._payloads:
            self._payloads[language] = msgspec.json.encode(self.message(language))
        return self._payloads[language]

    async def run(self) -> None:
        rt = self.rt
        last_id = 0
        # Pages are claimed one after the other, not ahead while the current one is sent: a claim
        # running in the database thread alongside the event loop made both slower (measured on
        # SQLite: ~12 µs more CPU a message, most of it in the encryption), more than the wait.
        # A sent page's outcomes are written together with the next claim (on SQLite one
        # transaction, the outcomes first): one database round a page instead of three.
        done: outcomes.Outcomes | None = None
        try:
            while True:
                ttl = ttl_for(self.notice, self.event, rt.clock.now())
                if ttl is None:
                    if done is not None:
                        await asyncio.shield(outcomes.write(rt, done))
                        done = None
                    await deliveries.skip_open(rt, self.notice_id, self.event, "validity ended")
                    break
                check = self.event == "published" and last_id != 0
                status, rows, last_id_seen = await deliveries.record_and_claim(
                    rt, self.notice_id, self.event, done, last_id, PAGE, published_only=check
                )
                done = None
                if check and status != "published":
                    await deliveries.skip_open(rt, self.notice_id, "published", status or "deleted")
                    break
                if last_id_seen == last_id:
                    break
                last_id = last_id_seen
                if rows:
                    done = await self._page(rows, options_for(self.notice, ttl))
        finally:
            if done is not None:
                # Stopped between a page and the next claim (the claim failed, or the worker is
                # being cancelled): the page's outcomes are still written, or it would be sent again.
                try:
                    await asyncio.shield(outcomes.write(rt, done))
                except Exception:
                    log.exception("push fan-out of %s: outcomes of a sent page not written", self.notice_id)
            for sender in (self.webpush, self.fcm):
                if sender is not None:
                    await sender.aclose()
        if self.retries:
            after = min(3600.0, max(self.retry_after)) if self.retry_after else None
            raise RetryLater(f"{self.retries} push deliveries to retry", after)
        if await deliveries.open_count(rt, self.notice_id, self.event):
            # Rows another (live or dead) fan-out holds: come back when their claim runs out.
            raise RetryLater(
                "push deliveries held by another fan-out", deliveries.SENDING_LEASE.total_seconds()
            )

    async def _page(self, rows: list[Row], options: PushOptions) -> outcomes.Outcomes:
        """Send a page; its outcomes, for the caller to write with the next claim. A page that
        fails or is cancelled midway has what it got written here, before the error goes on."""
        results: dict[int, SendResult] = {}
        started: set[int] = set()
        web: list[Row] = []
        fcm: list[Row] = []
        for r in rows:
            if not r.active:
                results[r.id] = REMOVED
            elif r.channel == "webpush":
                web.append(r)
            elif r.channel == "fcm":
                fcm.append(r)
        try:
            await asyncio.gather(
                self._send_web(web, options, results, started), self._send_fcm(fcm, options, results)
            )
        except BaseException:
            await asyncio.shield(outcomes.record(self.rt, rows, results, started, final=self.final))
            raise
        finally:
            for result in results.values():
                if result.outcome == "retry" and not self.final:
                    self.retries += 1
                    if result.retry_after is not None:
                        self.retry_after.append(result.retry_after)
        return outcomes.of_page(rows, results, started, final=self.final, now=self.rt.clock.now())

    async def _send_web(
        self, rows: list[Row], options: PushOptions, results: dict[int, SendResult], started: set[int]
    ) -> None:
        if not rows:
            return
        if self.webpush is None:
            self.webpush = self.channel.webpush_factory()
        sender = self.webpush
        payloads = {language: self.payload(language) for language in {r.language for r in rows}}
        batch = WebPushBatch(
            [WebPushTarget(r.endpoint, r.p256dh, r.auth) for r in rows], [payloads[r.language] for r in rows]
        )
        send_batch = getattr(sender, "send_batch", None)
        try:
            if send_batch is not None:
                await send_batch(batch, options, self.concurrency)
            else:
                await send_each(sender, batch, options, self.concurrency)
        finally:
            started.update(r.id for r in rows[: batch.started])
            for row, result in zip(rows, batch.results, strict=True):
                if result is not None:
                    results[row.id] = result

    async def _send_fcm(self, rows: list[Row], options: PushOptions, results: dict[int, SendResult]) -> None:
        if not rows:
            return
        if self.channel.fcm_factory is None:
            for row in rows:
                results[row.id] = SendResult("skipped", error="FCM is not configured (KENG_FCM_CREDENTIALS)")
            return
        if self.fcm is None:
            self.fcm = self.channel.fcm_factory()
        by_language: dict[str, list[Row]] = {}
        for row in rows:
            by_language.setdefault(row.language, []).append(row)
        for language, group in by_language.items():
            msg = self.message(language)
            try:
                answers = await self.fcm.send_multicast(
                    [r.endpoint for r in group], msg, msg["title"], msg["summary"], options
                )
            except Exception as exc:
                log.warning("FCM batch failed: %s", exc)
                answers = [SendResult("retry", error=f"{type(exc).__name__}: {exc}"[:200])] * len(group)
            for row, answer in zip(group, answers, strict=True):
                results[row.id] = answer
