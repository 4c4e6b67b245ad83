"""What Kẻng does with devices' MQTT reports: parse, then hand to the services.

Every report is also activity. A malformed payload is logged and dropped (a device cannot be
answered over MQTT with an error); the topic's device id is trusted because the broker lets a
device publish only on its own topics."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import msgspec

from backend.devices.health import presence
from backend.devices.health.schemas import DeviceEvent, ReportedState
from backend.devices.topics import DeviceChannel, Topics
from backend.runtime import Runtime

log = logging.getLogger(__name__)


def device_of(topics: Topics, topic: str) -> uuid.UUID | None:
    rest = topic.removeprefix(f"{topics.root}/devices/")
    try:
        return uuid.UUID(rest.split("/", 1)[0])
    except ValueError:
        return None


def register(rt: Runtime) -> None:
    """Subscribe the server's bus to the device reports handled here."""
    topics = Topics.for_settings(rt.settings)

    def on(channel: DeviceChannel, handle: Callable[[uuid.UUID, bytes], Awaitable[None]]) -> None:
        async def handler(topic: str, payload: bytes) -> None:
            device_id = device_of(topics, topic)
            if device_id is None or not payload:
                return
            try:
                await handle(device_id, payload)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.info("device %s sent a bad %s message: %s", device_id, channel, exc)

        rt.bus.subscribe(topics.all_devices(channel), handler)

    async def status(device_id: uuid.UUID, payload: bytes) -> None:
        await presence.on_status(rt, device_id, payload)

    async def reported(device_id: uuid.UUID, payload: bytes) -> None:
        await presence.on_reported(rt, device_id, msgspec.json.decode(payload, type=ReportedState))

    async def event(device_id: uuid.UUID, payload: bytes) -> None:
        e = msgspec.json.decode(payload, type=DeviceEvent)
        await presence.on_event(rt, device_id, e.type, e.active, e.details)

    async def reply(device_id: uuid.UUID, payload: bytes) -> None:
        from backend.devices.commands import services as commands
        from backend.devices.commands.schemas import CommandReply

        await presence.touch(rt, device_id)
        await commands.on_reply(rt, device_id, msgspec.json.decode(payload, type=CommandReply))

    on("status", status)
    on("state/reported", reported)
    on("events", event)
    on("replies", reply)
