"""The ``staffinbox`` outbox channel: staff inbox entries reach the account's phones and browsers.

Its rows come in two forms. ``inbox`` rows carry the ids of entries a producer already wrote in its
own transaction (a notice the programme moved to a later session or could not place); each is
pushed once. Any other event is handed to the *composer* registered for it (``raised``: a device
alarm, composed by ``backend.devices.health.notify``), which says who is told what; the channel
writes those entries and pushes the new ones. A composer lets a producer whose hot path should not
fan out (an alarm raised in MQTT intake) leave the work to the outbox worker. Composers are wired
in ``backend/channels.py``, so this package imports neither devices nor broadcast.

Pushes use the senders of the citizens' push channel (Web Push and FCM). An entry is unique per
event and account and is pushed only while its ``pushed`` count is 0, so a retried outbox row
notifies nobody twice; a failed push leaves the inbox entry and is not retried."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from backend.adapters.push import FcmSender, PushOptions, WebPushSender, WebPushTarget
from backend.citizen.push.channel import PushChannel
from backend.citizen.push.tables import PushRegistration
from backend.core.outbox.services import ClaimedMessage
from backend.officials.inbox import services as inbox
from backend.officials.inbox.tables import StaffNotification
from backend.runtime import Runtime
from backend.settings import Settings

PUSH_TTL = 6 * 3600
Urgency = Literal["very-low", "low", "normal", "high"]


@dataclass(frozen=True)
class Fanout:
    """What a composer found to tell: one note per account, each in that account's language."""

    notes: list[inbox.Note]
    urgency: Urgency = "normal"


Composer = Callable[[Runtime, dict[str, Any]], Awaitable[Fanout | None]]


class StaffInboxChannel:
    def __init__(
        self,
        settings: Settings,
        *,
        composers: Mapping[str, Composer] | None = None,
        webpush: Callable[[], WebPushSender] | None = None,
        fcm: Callable[[], FcmSender] | None = None,
    ) -> None:
        # The citizens' channel knows how to make real senders (VAPID keys, FCM credentials).
        self._push = PushChannel(settings, webpush=webpush, fcm=fcm)
        self._composers = dict(composers or {})

    async def __call__(self, rt: Runtime, message: ClaimedMessage) -> None:
        if message.event == "inbox":
            await self._push_entries([int(i) for i in message.payload.get("ids", [])], "normal")
            return
        composer = self._composers.get(message.event)
        if composer is None:
            return
        fanout = await composer(rt, message.payload)
        if fanout is None:
            return
        async with rt.db.transaction():
            fresh = await inbox.deliver(rt, fanout.notes)
        await self._push_entries([notification_id for notification_id, _ in fresh], fanout.urgency)

    async def _push_entries(self, ids: list[int], urgency: Urgency) -> None:
        """Push each entry not pushed yet to its account's phones, once."""
        if not ids:
            return
        rows = await StaffNotification.select().where(
            StaffNotification.id.is_in(ids) & (StaffNotification.pushed == 0)
        )
        for row in sorted(rows, key=lambda r: r["id"]):
            about = row["notice_id"] or row["device_id"] or row["id"]
            data = {
                "kind": row["kind"],
                "notification_id": str(row["id"]),
                **{
                    k: str(row[k])
                    for k in ("alarm_id", "notice_id", "station_id", "device_id")
                    if row[k] is not None
                },
            }
            options = PushOptions(ttl=PUSH_TTL, urgency=urgency, topic=f"staff-{str(about)[:24]}")
            pushed = await self._send(row["account_id"], data, options, row["title"], row["body"])
            await StaffNotification.update({StaffNotification.pushed: pushed}).where(
                StaffNotification.id == row["id"]
            )

    async def _send(
        self, account_id: uuid.UUID, data: dict[str, str], options: PushOptions, title: str, body: str
    ) -> int:
        """Push to the account's registrations; return how many took it."""
        regs = await PushRegistration.select().where(
            (PushRegistration.account == account_id) & PushRegistration.pruned_at.is_null()
        )
        payload = msgspec.json.encode({**data, "title": title, "body": body})
        sent = 0
        web = [r for r in regs if r["kind"] == "webpush"]
        if web:
            sender = self._push.webpush_factory()
            try:
                for r in web:
                    result = await sender.send(
                        WebPushTarget(r["endpoint"], r["p256dh"], r["auth"]), payload, options
                    )
                    sent += result.outcome == "sent"
            finally:
                with contextlib.suppress(Exception):
                    await sender.aclose()
        tokens = [r["endpoint"] for r in regs if r["kind"] == "fcm"]
        if tokens and self._push.fcm_factory is not None:
            fcm = self._push.fcm_factory()
            try:
                results = await fcm.send_multicast(tokens, data, title, body, options)
                sent += sum(r.outcome == "sent" for r in results)
            finally:
                with contextlib.suppress(Exception):
                    await fcm.aclose()
        return sent
