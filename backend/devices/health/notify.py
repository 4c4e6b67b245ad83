"""Telling commune officials that a loudspeaker cluster of their commune is off the air.

Raising such an alarm queues a ``raised`` row on the staff inbox's outbox channel (``staffinbox``);
the channel hands it to ``alarm_fanout``, which finds the commune officials and leaders whose area
contains the device and writes each an entry in their own language. The channel stores the entries
and pushes them, urgently, to the officials' phones."""

from __future__ import annotations

import uuid
from typing import Any

from backend.devices.tables import Device, DeviceAlarm
from backend.lib.i18n import DEFAULT_LANGUAGE, translate
from backend.officials.inbox import services as inbox
from backend.officials.inbox.channel import Fanout
from backend.runtime import Runtime

RECIPIENT_ROLES = inbox.COMMUNE_ROLES


def message(
    device: dict[str, Any], alarm: dict[str, Any], language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
    name = device["name"] or str(device["id"])[:8]
    title = translate(f"device.alarm.{alarm['type']}.title", language, name=name)
    body = translate("device.alarm.body", language, name=name, area=device["area_code"])
    return title, body


async def alarm_fanout(rt: Runtime, payload: dict[str, Any]) -> Fanout | None:
    """The entries a raised alarm gives (``raised`` rows of the ``staffinbox`` channel); None when
    the alarm or its device is gone."""
    alarm = await DeviceAlarm.select().where(DeviceAlarm.id == uuid.UUID(payload["alarm_id"])).first()
    if alarm is None:
        return None
    device = await Device.select().where(Device.id == alarm["device_id"]).first()
    if device is None:
        return None
    notes = []
    for recipient in await inbox.officials_over(device["area_path"], RECIPIENT_ROLES):
        title, body = message(device, alarm, recipient.language)
        notes.append(
            inbox.Note(
                account_id=recipient.account_id,
                kind="device_alarm",
                dedupe_key=f"{alarm['id']}:{recipient.account_id}:raised",
                title=title,
                body=body,
                alarm_id=alarm["id"],
                device_id=device["id"],
            )
        )
    return Fanout(notes, urgency="high")
