"""Outbox channel handlers, keyed by channel name.

A channel absent from this mapping keeps its outbox rows pending until a handler exists, so
work written today is delivered when the channel lands."""

from __future__ import annotations

from backend.broadcast.cap import cap_channel_handler
from backend.broadcast.channels import eboard_handler, mqtt_handler
from backend.citizen.push.channel import PushChannel
from backend.citizen.sms import SmsChannel
from backend.core.outbox.services import ChannelHandler
from backend.devices.channel import devices_handler
from backend.devices.health.notify import DeviceAlarmChannel
from backend.settings import Settings


def build_channel_handlers(settings: Settings) -> dict[str, ChannelHandler]:
    handlers: dict[str, ChannelHandler] = {}
    handlers["cap"] = cap_channel_handler
    handlers["push"] = PushChannel(settings)
    handlers["mqtt"] = mqtt_handler
    handlers["eboard"] = eboard_handler
    handlers["devices"] = devices_handler
    handlers["devicealarm"] = DeviceAlarmChannel(settings)
    if settings.sms_gateway_url:
        handlers["sms"] = SmsChannel(settings)
    return handlers
