"""Telling commune officials that a loudspeaker cluster of their commune is off the air.

The ``devicealarm`` outbox channel takes a raised alarm, finds the commune officials and leaders
whose area contains the device, and gives each a staff notification (their inbox in the console
and the API) and a push to every phone or browser they registered (Web Push and FCM, the senders of
the citizens' push channel). The inbox row is unique per (alarm, account), so a retried outbox row
notifies nobody twice; pushes go only with the row that was new. The same channel pushes inbox
entries written elsewhere (``inbox`` events, e.g. a notice the programme moved to a later session)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from backend.adapters.push import FcmSender, PushOptions, WebPushSender, WebPushTarget
from backend.citizen.push.channel import PushChannel
from backend.citizen.push.tables import PushRegistration
from backend.core.outbox.services import ClaimedMessage
from backend.devices.health import inbox
from backend.devices.tables import Device, DeviceAlarm, StaffNotification
from backend.lib.i18n import translate
from backend.runtime import Runtime
from backend.settings import Settings

RECIPIENT_ROLES = inbox.COMMUNE_ROLES
PUSH_TTL = 6 * 3600


async def recipients(device: dict[str, Any]) -> list[uuid.UUID]:
    return await inbox.officials_over(device["area_path"], RECIPIENT_ROLES)


def message(device: dict[str, Any], alarm: dict[str, Any], language: str = "vi") -> tuple[str, str]:
    name = device["name"] or str(device["id"])[:8]
    title = translate(f"device.alarm.{alarm['type']}.title", language, name=name)
    body = translate("device.alarm.body", language, name=name, area=device["area_code"])
    return title, body


class DeviceAlarmChannel:
    def __init__(
        self,
        settings: Settings,
        *,
        webpush: Callable[[], WebPushSender] | None = None,
        fcm: Callable[[], FcmSender] | None = None,
    ) -> None:
        # The citizens' channel knows how to make real senders (VAPID keys, FCM credentials).
        self._push = PushChannel(settings, webpush=webpush, fcm=fcm)

    async def __call__(self, rt: Runtime, message_: ClaimedMessage) -> None:
        if message_.event == "inbox":
            await self._push_entries([int(i) for i in message_.payload.get("ids", [])])
            return
        if message_.event != "raised":
            return
        alarm = (
            await DeviceAlarm.select()
            .where(DeviceAlarm.id == uuid.UUID(message_.payload["alarm_id"]))
            .first()
        )
        if alarm is None:
            return
        device = await Device.select().where(Device.id == alarm["device_id"]).first()
        if device is None:
            return
        title, body = message(device, alarm)
        async with rt.db.transaction():
            fresh = await inbox.deliver(
                rt,
                [
                    inbox.Note(
                        account_id=account_id,
                        kind="device_alarm",
                        dedupe_key=f"{alarm['id']}:{account_id}:raised",
                        title=title,
                        body=body,
                        alarm_id=alarm["id"],
                        device_id=device["id"],
                    )
                    for account_id in await recipients(device)
                ],
            )
        data = {"kind": "device_alarm", "alarm_id": str(alarm["id"]), "device_id": str(alarm["device_id"])}
        options = PushOptions(ttl=PUSH_TTL, urgency="high", topic=f"device-{str(alarm['device_id'])[:24]}")
        for notification_id, account_id in fresh:
            pushed = await self._send(account_id, data, options, title, body)
            await StaffNotification.update({StaffNotification.pushed: pushed}).where(
                StaffNotification.id == notification_id
            )

    async def _push_entries(self, ids: list[int]) -> None:
        """Push inbox entries other parts wrote (``event="inbox"``, e.g. a notice the programme
        moved): each to its account's phones, once."""
        if not ids:
            return
        rows = await StaffNotification.select().where(
            StaffNotification.id.is_in(ids) & (StaffNotification.pushed == 0)
        )
        for row in rows:
            about = row["notice_id"] or row["device_id"] or row["id"]
            data = {
                "kind": row["kind"],
                "notification_id": str(row["id"]),
                **{k: str(row[k]) for k in ("notice_id", "station_id", "device_id") if row[k] is not None},
            }
            options = PushOptions(ttl=PUSH_TTL, urgency="normal", topic=f"staff-{str(about)[:24]}")
            pushed = await self._send(row["account_id"], data, options, row["title"], row["body"])
            await StaffNotification.update({StaffNotification.pushed: pushed}).where(
                StaffNotification.id == row["id"]
            )

    async def _send(
        self, account_id: uuid.UUID, data: dict[str, str], options: PushOptions, title: str, body: str
    ) -> int:
        """Push to the account's registrations; a failed push leaves the inbox entry, never retries."""
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
