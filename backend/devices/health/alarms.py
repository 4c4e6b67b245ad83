"""Device alarms: one open alarm per type per device, active/cleared × acknowledged.

Raising an alarm that is already open counts another occurrence (and re-activates it if it had
cleared but nobody acknowledged it yet); clearing keeps it open until acknowledged; acknowledging
a cleared alarm closes it, so the next occurrence is a new alarm. When a new alarm on a
loudspeaker cluster means it is off the air (offline, playback failing, manifests rejected), the
officials of its commune are told through their staff inbox (outbox channel ``staffinbox``)."""

from __future__ import annotations

import uuid
from typing import Any

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.outbox import services as outbox
from backend.devices.health.schemas import AlarmList, AlarmOut
from backend.devices.services import load, read_grant, scope_clause
from backend.devices.tables import Device, DeviceAlarm
from backend.lib.db import json_column
from backend.lib.errors import NotFound
from backend.officials.inbox import services as inbox
from backend.runtime import Runtime

SEVERITY = {
    "offline": "major",
    "playback_error": "major",
    "manifest_verification_failed": "critical",
    "power": "warning",
    "low_volume": "warning",
}
# A household receiver going quiet is routine; a cluster or a board is a village off the air.
SEVERITY_FOR_RECEIVER = {"offline": "minor", "playback_error": "minor"}
NOTIFY_TYPES = {"offline", "playback_error", "manifest_verification_failed"}


def severity(kind: str, alarm_type: str) -> str:
    if kind == "receiver":
        return SEVERITY_FOR_RECEIVER.get(alarm_type, SEVERITY[alarm_type])
    return SEVERITY[alarm_type]


def open_key(device_id: uuid.UUID, alarm_type: str) -> str:
    return f"{device_id}:{alarm_type}"


async def raise_alarm(
    rt: Runtime, device: dict[str, Any], alarm_type: str, details: dict[str, Any] | None = None
) -> tuple[uuid.UUID, bool]:
    """(alarm id, whether it is a new alarm). Call inside a transaction."""
    now = rt.clock.now()
    key = open_key(device["id"], alarm_type)
    row = (
        await DeviceAlarm.select(DeviceAlarm.id, DeviceAlarm.active)
        .where(DeviceAlarm.open_key == key)
        .first()
    )
    if row is not None:
        changes: dict[Any, Any] = {DeviceAlarm.details: details or {}}
        if not row["active"]:
            changes |= {
                DeviceAlarm.active: True,
                DeviceAlarm.cleared_at: None,
                DeviceAlarm.occurrences: DeviceAlarm.occurrences + 1,
            }
        await DeviceAlarm.update(changes).where(DeviceAlarm.id == row["id"])
        return row["id"], False
    alarm_id = uuid.uuid4()
    await DeviceAlarm.insert(
        DeviceAlarm(
            id=alarm_id,
            device_id=device["id"],
            type=alarm_type,
            severity=severity(device["kind"], alarm_type),
            active=True,
            acknowledged=False,
            open_key=key,
            details=details or {},
            raised_at=now,
        )
    )
    if device["kind"] == "cluster" and alarm_type in NOTIFY_TYPES:
        await outbox.enqueue(
            rt,
            channel=inbox.CHANNEL,
            event="raised",  # composed by health/notify.py
            aggregate_id=str(alarm_id),
            payload={"alarm_id": str(alarm_id)},
        )
    return alarm_id, True


async def clear_alarm(rt: Runtime, device_id: uuid.UUID, alarm_type: str) -> bool:
    """End the condition; the alarm stays open until acknowledged. Call inside a transaction."""
    key = open_key(device_id, alarm_type)
    row = await (
        DeviceAlarm.select(DeviceAlarm.id, DeviceAlarm.acknowledged)
        .where((DeviceAlarm.open_key == key) & (DeviceAlarm.active == True))  # noqa: E712 (SQL)
        .first()
    )
    if row is None:
        return False
    changes: dict[Any, Any] = {DeviceAlarm.active: False, DeviceAlarm.cleared_at: rt.clock.now()}
    if row["acknowledged"]:
        changes[DeviceAlarm.open_key] = None
    await DeviceAlarm.update(changes).where(DeviceAlarm.id == row["id"])
    return True


def alarm_out(row: dict[str, Any]) -> AlarmOut:
    return AlarmOut(
        id=row["id"],
        device_id=row["device_id"],
        type=row["type"],
        severity=row["severity"],
        active=bool(row["active"]),
        acknowledged=bool(row["acknowledged"]),
        details=json_column(row["details"], {}),
        occurrences=row["occurrences"],
        raised_at=row["raised_at"],
        cleared_at=row["cleared_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
    )


async def acknowledge(rt: Runtime, actor: Actor, alarm_id: uuid.UUID) -> AlarmOut:
    row = await DeviceAlarm.select().where(DeviceAlarm.id == alarm_id).first()
    if row is None:
        raise NotFound("alarm")
    device = await load(row["device_id"])
    read_grant(actor, device["area_path"])
    grant = actor.require(Permission.DEVICE_COMMAND, [device["area_path"]])
    async with rt.db.transaction():
        if not row["acknowledged"]:
            changes: dict[Any, Any] = {
                DeviceAlarm.acknowledged: True,
                DeviceAlarm.acknowledged_at: rt.clock.now(),
                DeviceAlarm.acknowledged_by: actor.account_id,
            }
            if not row["active"]:
                changes[DeviceAlarm.open_key] = None
            await DeviceAlarm.update(changes).where(DeviceAlarm.id == alarm_id)
            await audit.record(
                rt,
                actor,
                "device.alarm_acknowledge",
                target_type="device_alarm",
                target_id=str(alarm_id),
                grant=grant,
                details={"device_id": str(device["id"]), "type": row["type"]},
            )
    return alarm_out(await DeviceAlarm.select().where(DeviceAlarm.id == alarm_id).first())


async def list_alarms(
    rt: Runtime,
    actor: Actor,
    *,
    device_id: uuid.UUID | None = None,
    open_only: bool = True,
    limit: int = 200,
) -> AlarmList:
    ids = Device.select(Device.id).where(scope_clause(actor))
    if device_id is not None:
        ids = ids.where(Device.id == device_id)
    allowed = [r["id"] for r in await ids]
    if not allowed:
        return AlarmList(items=[])
    query = DeviceAlarm.select().where(DeviceAlarm.device_id.is_in(allowed))
    if open_only:
        query = query.where(DeviceAlarm.open_key.is_not_null())
    rows = await query.order_by(DeviceAlarm.raised_at, ascending=False).limit(max(1, min(limit, 1000)))
    return AlarmList(items=[alarm_out(r) for r in rows])
