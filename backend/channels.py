"""Outbox channel handlers, keyed by channel name.

A channel absent from this mapping keeps its outbox rows pending until a handler exists, so
work written today is delivered when the channel lands. The staff inbox's channel is given here
what each producer's own events mean (device alarms), so the inbox imports no producer."""

from __future__ import annotations

from collections.abc import Callable

from backend.adapters.push import FcmSender, WebPushSender
from backend.broadcast.cap import cap_channel_handler
from backend.broadcast.channels import eboard_handler, mqtt_handler
from backend.citizen.push.channel import PushChannel
from backend.citizen.sms import SmsChannel
from backend.core.outbox.services import ChannelHandler
from backend.devices.channel import devices_handler
from backend.devices.health.notify import alarm_fanout
from backend.officials.inbox import services as inbox
from backend.officials.inbox.channel import StaffInboxChannel
from backend.settings import Settings


def staff_inbox_channel(
    settings: Settings,
    *,
    webpush: Callable[[], WebPushSender] | None = None,
    fcm: Callable[[], FcmSender] | None = None,
) -> StaffInboxChannel:
    return StaffInboxChannel(settings, composers={"raised": alarm_fanout}, webpush=webpush, fcm=fcm)


def build_channel_handlers(settings: Settings) -> dict[str, ChannelHandler]:
    handlers: dict[str, ChannelHandler] = {}
    handlers["cap"] = cap_channel_handler
    handlers["push"] = PushChannel(settings)
    handlers["mqtt"] = mqtt_handler
    handlers["eboard"] = eboard_handler
    handlers["devices"] = devices_handler
    handlers[inbox.CHANNEL] = staff_inbox_channel(settings)
    if settings.sms_gateway_url:
        handlers["sms"] = SmsChannel(settings)
    return handlers
