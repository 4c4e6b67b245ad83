"""Commands to one device: queued → sent → delivered → succeeded | failed | timed_out | expired.

A command is stored (and audited) first, then sent through the ``devices`` outbox channel, so a
broker outage delays it instead of losing it. A persistent command for a device that is offline
stays queued until the device comes back (then it is sent) or its time to live ends (expired); a
non-persistent one is sent at once. A sent command waits ``KENG_DEVICE_COMMAND_REPLY_SECONDS`` for
the device's reply, correlated by the command's id: ``delivered`` (received), then ``succeeded``
or ``failed``; without one it times out. Replies after the end change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec

from backend.adapters.mqtt import BusUnavailable
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.outbox import services as outbox
from backend.core.outbox.services import RetryLater
from backend.devices.commands.schemas import (
    PARAMS,
    TERMINAL,
    CommandIn,
    CommandList,
    CommandMessage,
    CommandOut,
    CommandReply,
)
from backend.devices.services import load, read_grant
from backend.devices.tables import Device, DeviceCommand
from backend.devices.topics import Topics
from backend.lib.db import json_column
from backend.lib.errors import NotFound, ValidationFailed
from backend.runtime import Runtime

CHANNEL = "devices"
LIVE_STATES = ("online", "playing", "error")


def command_out(row: dict[str, Any]) -> CommandOut:
    return CommandOut(
        id=row["id"],
        device_id=row["device_id"],
        kind=row["kind"],
        params=json_column(row["params"], {}),
        status=row["status"],
        persistent=bool(row["persistent"]),
        expires_at=row["expires_at"],
        reply_deadline=row["reply_deadline"],
        attempts=row["attempts"],
        result=json_column(row["result"], {}),
        created_by=row["created_by"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        delivered_at=row["delivered_at"],
        finished_at=row["finished_at"],
    )


def _params(data: CommandIn) -> dict[str, Any]:
    try:
        return msgspec.to_builtins(msgspec.convert(data.params, PARAMS[data.kind]))
    except msgspec.ValidationError as exc:
        raise ValidationFailed([{"field": "params", "reason": str(exc)}]) from exc


async def _enqueue_send(rt: Runtime, command_id: uuid.UUID) -> None:
    await outbox.enqueue(
        rt,
        channel=CHANNEL,
        event="command",
        aggregate_id=str(command_id),
        payload={"command_id": str(command_id)},
    )


async def create(rt: Runtime, actor: Actor, device_id: uuid.UUID, data: CommandIn) -> CommandOut:
    device = await load(device_id)
    read_grant(actor, device["area_path"])
    grant = actor.require(Permission.DEVICE_COMMAND, [device["area_path"]])
    params = _params(data)
    if data.kind == "play_now" and not (params.get("media_sha256") or params.get("notice_id")):
        raise ValidationFailed([{"field": "params", "reason": "play_now needs media_sha256 or notice_id"}])
    if data.request_key:
        existing = await DeviceCommand.select().where(DeviceCommand.request_key == data.request_key).first()
        if existing is not None and existing["device_id"] == device_id:
            return command_out(existing)
    now = rt.clock.now()
    ttl = data.ttl_seconds or rt.settings.device_command_ttl_seconds
    command_id = uuid.uuid4()
    async with rt.db.transaction():
        await DeviceCommand.insert(
            DeviceCommand(
                id=command_id,
                device_id=device_id,
                kind=data.kind,
                params=params,
                status="queued",
                persistent=data.persistent,
                request_key=data.request_key,
                expires_at=now + timedelta(seconds=ttl),
                created_by=actor.account_id,
                created_at=now,
            )
        )
        if device["state"] in LIVE_STATES or not data.persistent:
            await _enqueue_send(rt, command_id)
        await audit.record(
            rt,
            actor,
            "device.command",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details={"command_id": str(command_id), "kind": data.kind, "params": params},
        )
    return command_out(await DeviceCommand.select().where(DeviceCommand.id == command_id).first())


def message_for(row: dict[str, Any]) -> CommandMessage:
    return CommandMessage(
        id=row["id"], kind=row["kind"], params=json_column(row["params"], {}), expires_at=row["expires_at"]
    )


async def mark_sent(rt: Runtime, command_id: uuid.UUID) -> None:
    now = rt.clock.now()
    await DeviceCommand.update(
        {
            DeviceCommand.status: "sent",
            DeviceCommand.sent_at: now,
            DeviceCommand.reply_deadline: now + timedelta(seconds=rt.settings.device_command_reply_seconds),
            DeviceCommand.attempts: DeviceCommand.attempts + 1,
        }
    ).where((DeviceCommand.id == command_id) & (DeviceCommand.status == "queued"))


async def send(rt: Runtime, command_id: uuid.UUID) -> None:
    """The outbox's part: publish a queued command if it is still due and the device can get it."""
    row = await DeviceCommand.select().where(DeviceCommand.id == command_id).first()
    if row is None or row["status"] != "queued":
        return
    now = rt.clock.now()
    if row["expires_at"] <= now:
        await _finish(rt, row, "expired", {"reason": "ttl"})
        return
    device = await Device.select(Device.state).where(Device.id == row["device_id"]).first()
    if device is None:
        return
    if row["persistent"] and device["state"] not in LIVE_STATES:
        return  # sent when the device comes back (dispatch_pending)
    topic = Topics.for_settings(rt.settings).device(str(row["device_id"]), "commands")
    try:
        await rt.bus.publish(topic, msgspec.json.encode(message_for(row)), qos=1)
    except BusUnavailable as exc:
        raise RetryLater(f"broker unavailable: {exc}", 5) from exc
    await mark_sent(rt, command_id)


async def dispatch_pending(rt: Runtime, device_id: uuid.UUID) -> int:
    """A device came back: send its queued persistent commands still within their time to live."""
    rows = await DeviceCommand.select(DeviceCommand.id).where(
        (DeviceCommand.device_id == device_id)
        & (DeviceCommand.status == "queued")
        & (DeviceCommand.expires_at > rt.clock.now())
    )
    for row in rows:
        await _enqueue_send(rt, row["id"])
    return len(rows)


async def _finish(rt: Runtime, row: dict[str, Any], status: str, result: dict[str, Any]) -> bool:
    done = await (
        DeviceCommand.update(
            {
                DeviceCommand.status: status,
                DeviceCommand.result: result,
                DeviceCommand.finished_at: rt.clock.now(),
            }
        )
        .where((DeviceCommand.id == row["id"]) & DeviceCommand.status.not_in(list(TERMINAL)))
        .returning(DeviceCommand.id)
    )
    if done:
        await audit.record(
            rt,
            Actor.system("device command"),
            f"device.command_{status}",
            target_type="device",
            target_id=str(row["device_id"]),
            details={"command_id": str(row["id"]), "kind": row["kind"], "result": result},
        )
    return bool(done)


async def on_reply(rt: Runtime, device_id: uuid.UUID, reply: CommandReply) -> None:
    """Apply a device's reply to its own command; unknown, foreign or late replies change nothing."""
    row = await DeviceCommand.select().where(DeviceCommand.id == reply.id).first()
    if row is None or row["device_id"] != device_id or row["status"] in TERMINAL:
        return
    async with rt.db.transaction():
        if reply.status == "delivered":
            await DeviceCommand.update(
                {DeviceCommand.status: "delivered", DeviceCommand.delivered_at: rt.clock.now()}
            ).where((DeviceCommand.id == row["id"]) & DeviceCommand.status.is_in(["queued", "sent"]))
        else:
            if row["delivered_at"] is None:
                await DeviceCommand.update({DeviceCommand.delivered_at: rt.clock.now()}).where(
                    DeviceCommand.id == row["id"]
                )
            await _finish(rt, row, reply.status, reply.result)


async def sweep(rt: Runtime) -> int:
    """Time out sent commands without a reply, expire queued ones past their time to live."""
    now = rt.clock.now()
    late = await DeviceCommand.select().where(
        DeviceCommand.status.is_in(["sent", "delivered"]) & (DeviceCommand.reply_deadline < now)
    )
    stale = await DeviceCommand.select().where(
        (DeviceCommand.status == "queued") & (DeviceCommand.expires_at <= now)
    )
    count = 0
    for row in late:
        count += await _finish(rt, row, "timed_out", {"reason": "no reply"})
    for row in stale:
        count += await _finish(rt, row, "expired", {"reason": "ttl"})
    return count


async def pending_for_device(rt: Runtime, device_id: uuid.UUID) -> list[CommandMessage]:
    """The HTTP fallback: queued commands (now counted as sent) and sent ones not yet answered."""
    now = rt.clock.now()
    rows = await (
        DeviceCommand.select()
        .where(
            (DeviceCommand.device_id == device_id)
            & DeviceCommand.status.is_in(["queued", "sent"])
            & (DeviceCommand.expires_at > now)
        )
        .order_by(DeviceCommand.created_at)
    )
    for row in rows:
        await mark_sent(rt, row["id"])
    return [message_for(r) for r in rows]


async def get(rt: Runtime, actor: Actor, command_id: uuid.UUID) -> CommandOut:
    row = await DeviceCommand.select().where(DeviceCommand.id == command_id).first()
    if row is None:
        raise NotFound("command")
    read_grant(actor, (await load(row["device_id"]))["area_path"])
    return command_out(row)


async def list_for_device(rt: Runtime, actor: Actor, device_id: uuid.UUID, limit: int = 100) -> CommandList:
    read_grant(actor, (await load(device_id))["area_path"])
    rows = await (
        DeviceCommand.select()
        .where(DeviceCommand.device_id == device_id)
        .order_by(DeviceCommand.created_at, ascending=False)
        .limit(max(1, min(limit, 500)))
    )
    return CommandList(items=[command_out(r) for r in rows])
