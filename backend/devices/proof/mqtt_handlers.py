"""The server's subscriptions to devices' ``acks`` and ``proof`` topics.

The broker lets a device publish only under its own id, so the id in the topic is who sent it.
A message that does not decode, names an unknown device or breaks the contract is logged and
dropped: MQTT has nobody to answer, and the device's own log keeps what it sent."""

from __future__ import annotations

import logging
import uuid

import msgspec

from backend.adapters.mqtt import Handler
from backend.devices.proof import services
from backend.devices.proof.schemas import AckIn, ProofIn
from backend.devices.topics import Topics
from backend.lib.errors import ValidationFailed
from backend.runtime import Runtime

log = logging.getLogger(__name__)
_ack = msgspec.json.Decoder(AckIn)
_proof = msgspec.json.Decoder(ProofIn)


def _device_id(topic: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(topic.rsplit("/", 2)[-2])
    except (ValueError, IndexError):
        return None


def handlers(rt: Runtime) -> list[tuple[str, Handler]]:
    topics = Topics.for_settings(rt.settings)

    async def on_ack(topic: str, payload: bytes) -> None:
        device_id = _device_id(topic)
        try:
            ack = _ack.decode(payload)
        except msgspec.DecodeError as exc:
            log.warning("ack on %s refused: %s", topic, exc)
            return
        if device_id is None or await services.device_row(device_id) is None:
            log.warning("ack on %s from an unknown device", topic)
            return
        await services.record_ack(rt, device_id, ack)

    async def on_proof(topic: str, payload: bytes) -> None:
        device_id = _device_id(topic)
        try:
            report = _proof.decode(payload)
        except msgspec.DecodeError as exc:
            log.warning("proof of play on %s refused: %s", topic, exc)
            return
        device = await services.device_row(device_id) if device_id else None
        if device_id is None or device is None:
            log.warning("proof of play on %s from an unknown device", topic)
            return
        try:
            await services.record_proofs(rt, device_id, device["group_id"], [report])
        except ValidationFailed as exc:
            log.warning("proof of play on %s refused: %s", topic, exc.details)

    return [(topics.all_devices("acks"), on_ack), (topics.all_devices("proof"), on_proof)]
