"""The ``devices`` outbox channel: what Kẻng publishes to one device.

``desired`` publishes the device's desired state, retained on ``state/desired`` (the latest version
and placement in the database at the time of sending, so an older row never overwrites a newer
document);
``command`` sends a queued command (see ``commands``). An unreachable broker retries the row."""

from __future__ import annotations

import logging
import uuid

import msgspec

from backend.adapters.mqtt import BusUnavailable
from backend.core.outbox.services import ClaimedMessage, RetryLater
from backend.devices.health.state import desired_document
from backend.devices.tables import Device
from backend.devices.topics import Topics
from backend.runtime import Runtime

log = logging.getLogger(__name__)


async def publish_desired(rt: Runtime, device_id: uuid.UUID) -> None:
    row = await Device.select().where(Device.id == device_id).first()
    if row is None:
        return
    topics = Topics.for_settings(rt.settings)
    document = desired_document(row, topics)
    try:
        await rt.bus.publish(
            topics.device(str(device_id), "state/desired"), msgspec.json.encode(document), qos=1, retain=True
        )
    except BusUnavailable as exc:
        raise RetryLater(f"broker unavailable: {exc}", 5) from exc


async def devices_handler(rt: Runtime, message: ClaimedMessage) -> None:
    if message.event == "desired":
        await publish_desired(rt, uuid.UUID(message.payload["device_id"]))
    elif message.event == "command":
        from backend.devices.commands import services as commands

        await commands.send(rt, uuid.UUID(message.payload["command_id"]))
    else:
        log.info("devices: ignoring outbox %s event %s", message.id, message.event)
