"""What Kẻng does with devices' MQTT reports: decode, then queue for the intake.

A malformed payload is logged and dropped (a device cannot be answered over MQTT with an error);
the topic's device id is trusted because the broker lets a device publish only on its own topics.
Decoding happens here, on the bus's task, so the intake's worker only ever sees valid reports."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import msgspec

from backend.devices.commands.schemas import CommandReply
from backend.devices.health.presence import status_word
from backend.devices.health.schemas import DeviceEvent, ReportedState
from backend.devices.intake import DeviceIntake, Kind, Report
from backend.devices.proof.schemas import AckIn, ProofIn
from backend.devices.topics import DeviceChannel, Topics
from backend.runtime import Runtime

log = logging.getLogger(__name__)


def device_of(topics: Topics, topic: str) -> uuid.UUID | None:
    rest = topic.removeprefix(f"{topics.root}/devices/")
    try:
        return uuid.UUID(rest.split("/", 1)[0])
    except ValueError:
        return None


def _status(payload: bytes) -> tuple[Kind, None] | None:
    word = status_word(payload)
    return (word, None) if word in ("online", "offline") else None  # type: ignore[return-value]


def _decoding(kind: Kind, type_: type) -> Callable[[bytes], tuple[Kind, object]]:
    decoder = msgspec.json.Decoder(type_)
    return lambda payload: (kind, decoder.decode(payload))


READERS: dict[DeviceChannel, Callable[[bytes], tuple[Kind, object] | None]] = {
    "status": _status,
    "state/reported": _decoding("reported", ReportedState),
    "events": _decoding("event", DeviceEvent),
    "replies": _decoding("reply", CommandReply),
    "acks": _decoding("ack", AckIn),
    "proof": _decoding("proof", ProofIn),
}


def register(rt: Runtime, intake: DeviceIntake) -> None:
    """Subscribe the server's bus to every device report channel."""
    topics = Topics.for_settings(rt.settings)

    def on(channel: DeviceChannel, read: Callable[[bytes], tuple[Kind, object] | None]) -> None:
        async def handler(topic: str, payload: bytes) -> None:
            device_id = device_of(topics, topic)
            if device_id is None or not payload:
                return
            try:
                decoded = read(payload)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.info("device %s sent a bad %s message: %s", device_id, channel, exc)
                return
            if decoded is not None:
                await intake.submit(Report(decoded[0], device_id, decoded[1]))

        rt.bus.subscribe(topics.all_devices(channel), handler)

    for channel, read in READERS.items():
        on(channel, read)
