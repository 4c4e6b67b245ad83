"""Presence: what devices say about themselves, and silence.

A device publishes a retained ``online`` on its status topic when it connects and leaves a Last
Will ``offline`` there; the broker publishes the Will when the connection drops. Every report a
device sends (status, state, events, replies, proof, acks) is activity; keep-alives are not, as
they never reach Kẻng. A device silent for longer than its kind's timeout is marked offline by the
sweep. Every change of state is kept in the history, and going offline raises the ``offline``
alarm (coming back clears it)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec

from backend.devices.commands import services as commands
from backend.devices.health import alarms
from backend.devices.health.schemas import ReportedState
from backend.devices.tables import Device, DeviceAlarm, DeviceStateChange
from backend.runtime import Runtime
from backend.settings import Settings

LIVE_STATES = ("online", "playing", "error")
LOW_VOLUME = 20  # percent: below it a cluster is barely heard


def offline_after(settings: Settings, kind: str) -> timedelta:
    seconds = {
        "cluster": settings.device_offline_seconds_cluster,
        "eboard": settings.device_offline_seconds_eboard,
        "receiver": settings.device_offline_seconds_receiver,
    }[kind]
    return timedelta(seconds=seconds)


async def _device(device_id: uuid.UUID) -> dict[str, Any] | None:
    row = await Device.select().where(Device.id == device_id).first()
    return row if row is not None and row["status"] != "retired" else None


async def set_state(rt: Runtime, device: dict[str, Any], state: str, reason: str) -> bool:
    """Move the device to ``state`` (history, offline alarm); False when it already was there."""
    if device["state"] == state:
        return False
    now = rt.clock.now()
    await Device.update({Device.state: state, Device.state_since: now, Device.updated_at: now}).where(
        Device.id == device["id"]
    )
    await DeviceStateChange.insert(
        DeviceStateChange(
            device_id=device["id"], state=state, previous=device["state"], reason=reason, at=now
        )
    )
    if state == "offline":
        await alarms.raise_alarm(rt, device, "offline", {"reason": reason})
    elif device["state"] == "offline":
        await alarms.clear_alarm(rt, device["id"], "offline")
    if state in LIVE_STATES and device["state"] not in LIVE_STATES:
        await commands.dispatch_pending(rt, device["id"])  # persistent commands waited for it
    device["state"] = state
    return True


def live_state(reported: dict[str, Any]) -> str:
    if reported.get("error"):
        return "error"
    if reported.get("playing"):
        return "playing"
    return "online"


async def touch(rt: Runtime, device_id: uuid.UUID) -> dict[str, Any] | None:
    """Record activity (any report from the device); an offline or unknown device is back."""
    device = await _device(device_id)
    if device is None:
        return None
    async with rt.db.transaction():
        await mark_active(rt, [device])
    return device


async def mark_active(rt: Runtime, devices: list[dict[str, Any]]) -> None:
    """Activity of these (known, not retired) devices: one UPDATE for all, and a device that was
    offline comes back. Call inside a transaction."""
    if not devices:
        return
    await Device.update({Device.last_activity_at: rt.clock.now(), Device.connected: True}).where(
        Device.id.is_in([d["id"] for d in devices])
    )
    for device in devices:
        if device["state"] not in LIVE_STATES:  # what it played before it went away is over
            await set_state(rt, device, "online", "activity")


def status_word(payload: bytes) -> str:
    """``online`` / ``offline`` from a status payload: the bare word, or JSON with ``state``."""
    text = payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            return str(msgspec.json.decode(payload).get("state", ""))
        except (msgspec.DecodeError, AttributeError):
            return ""
    return text


async def on_offline(rt: Runtime, device_id: uuid.UUID) -> None:
    """The device said goodbye, or the broker published its Last Will."""
    device = await _device(device_id)
    if device is None:
        return
    async with rt.db.transaction():
        await Device.update({Device.connected: False}).where(Device.id == device_id)
        await set_state(rt, device, "offline", "disconnected")


async def on_reported(rt: Runtime, device_id: uuid.UUID, report: ReportedState) -> None:
    """Store a newer reported state; derive playing/error, power and low-volume alarms."""
    device = await _device(device_id)
    if device is None:
        return
    async with rt.db.transaction():
        await mark_active(rt, [device])
        await record_reported(rt, {device_id: device}, [(device_id, report)])


async def record_reported(
    rt: Runtime, devices: dict[uuid.UUID, dict[str, Any]], reports: list[tuple[uuid.UUID, ReportedState]]
) -> None:
    """Reported states of many ``devices`` (already marked active; a fleet reports on connecting),
    in order, inside the caller's transaction: one newer than the last stored replaces it (an older
    one is ignored) and moves the device to playing, error or online; alarm conditions are raised,
    and cleared only where an alarm of that type is active. One statement for the batch plus one
    per newer report, not a dozen per report."""
    if not devices:
        return
    active = {
        (a["device_id"], a["type"])
        for a in await DeviceAlarm.select(DeviceAlarm.device_id, DeviceAlarm.type).where(
            DeviceAlarm.device_id.is_in(list(devices)) & (DeviceAlarm.active == True)  # noqa: E712 (SQL)
        )
    }
    now = rt.clock.now()
    for device_id, report in reports:
        device = devices.get(device_id)
        if device is None:
            continue
        if device["reported_version"] and report.version <= device["reported_version"]:
            continue
        reported = {k: v for k, v in msgspec.to_builtins(report).items() if v is not None and k != "schema"}
        device["firmware"] = report.firmware or device["firmware"]
        device["reported_version"] = report.version
        await Device.update(
            {
                Device.reported: reported,
                Device.reported_version: report.version,
                Device.reported_at: now,
                Device.firmware: device["firmware"],
                Device.updated_at: now,
            }
        ).where(Device.id == device_id)
        await set_state(rt, device, live_state(reported), "reported")
        conditions = [("playback_error", bool(report.error), {"error": report.error or ""})]
        if report.power is not None:
            conditions.append(("power", report.power != "mains", {"power": report.power}))
        if report.volume is not None and device["kind"] == "cluster":
            conditions.append(("low_volume", report.volume < LOW_VOLUME, {"volume": report.volume}))
        for alarm_type, on, details in conditions:
            if on:
                await alarms.raise_alarm(rt, device, alarm_type, details)
                active.add((device_id, alarm_type))
            elif (device_id, alarm_type) in active:
                await alarms.clear_alarm(rt, device_id, alarm_type)
                active.discard((device_id, alarm_type))


async def _condition(
    rt: Runtime, device: dict[str, Any], alarm_type: str, on: bool, details: dict[str, Any]
) -> None:
    if on:
        await alarms.raise_alarm(rt, device, alarm_type, details)
    else:
        await alarms.clear_alarm(rt, device["id"], alarm_type)


async def on_event(
    rt: Runtime, device_id: uuid.UUID, alarm_type: str, active: bool, details: dict[str, Any]
) -> None:
    device = await touch(rt, device_id)
    if device is None:
        return
    async with rt.db.transaction():
        await _condition(rt, device, alarm_type, active, details)


async def sweep(rt: Runtime) -> int:
    """Mark devices silent past their kind's timeout offline; returns how many."""
    now = rt.clock.now()
    rows = await Device.select().where(Device.state.is_in(list(LIVE_STATES)) & (Device.status != "retired"))
    count = 0
    for device in rows:
        last = device["last_activity_at"] or device["state_since"] or device["created_at"]
        if now - last < offline_after(rt.settings, device["kind"]):
            continue
        async with rt.db.transaction():
            await Device.update({Device.connected: False}).where(Device.id == device["id"])
            count += await set_state(rt, device, "offline", "inactivity")
    return count
