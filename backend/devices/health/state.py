"""Desired versus reported state, and the history of presence.

Staff set the desired volume or firmware; the desired document (with a version one above the last)
is stored and then published retained on the device's ``state/desired`` topic through the outbox,
so a device that is offline gets it when it reconnects and a broker outage loses nothing. The
delta lists what the device does not run yet: desired fields it reports otherwise, and the group's
current manifests it has not acknowledged in its reported state."""

from __future__ import annotations

import uuid
from typing import Any

from backend.broadcast.tables import Manifest
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.outbox import services as outbox
from backend.devices.health.schemas import DesiredIn, DeviceStateOut, Difference, StateChangeOut, StateHistory
from backend.devices.services import load, read_grant
from backend.devices.tables import Device, DeviceStateChange
from backend.lib.db import json_column
from backend.runtime import Runtime

CHANNEL = "devices"


def desired_document(row: dict[str, Any]) -> dict[str, Any]:
    """What is published on ``state/desired``."""
    return {"schema": 1, "version": row["desired_version"], **json_column(row["desired"], {})}


async def expected_manifests(rt: Runtime, group_id: uuid.UUID | None) -> dict[str, int]:
    if group_id is None:
        return {}
    rows = await Manifest.select(Manifest.kind, Manifest.version).where(
        (Manifest.group_id == group_id)
        & (Manifest.current == True)  # noqa: E712 (SQL)
        & (Manifest.valid_until > rt.clock.now())
    )
    return {r["kind"]: r["version"] for r in rows}


async def state_out(rt: Runtime, row: dict[str, Any]) -> DeviceStateOut:
    desired = json_column(row["desired"], {})
    reported = json_column(row["reported"], {})
    delta = [
        Difference(field=k, desired=v, reported=reported.get(k))
        for k, v in desired.items()
        if reported.get(k) != v
    ]
    running = reported.get("manifests") or {}
    for kind, version in (await expected_manifests(rt, row["group_id"])).items():
        if running.get(kind) != version:
            delta.append(Difference(field=f"manifests.{kind}", desired=version, reported=running.get(kind)))
    return DeviceStateOut(
        device_id=row["id"],
        state=row["state"],
        state_since=row["state_since"],
        connected=bool(row["connected"]),
        last_activity_at=row["last_activity_at"],
        desired=desired,
        desired_version=row["desired_version"],
        reported=reported,
        reported_version=row["reported_version"],
        reported_at=row["reported_at"],
        delta=delta,
        in_sync=not delta,
    )


async def get_state(rt: Runtime, actor: Actor, device_id: uuid.UUID) -> DeviceStateOut:
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    return await state_out(rt, row)


async def set_desired(rt: Runtime, actor: Actor, device_id: uuid.UUID, data: DesiredIn) -> DeviceStateOut:
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    grant = actor.require(Permission.DEVICE_COMMAND, [row["area_path"]])
    changes = {k: v for k, v in (("volume", data.volume), ("firmware", data.firmware)) if v is not None}
    async with rt.db.transaction():
        current = (
            await Device.select(Device.desired, Device.desired_version).where(Device.id == device_id).first()
        )
        desired = {**json_column(current["desired"], {}), **changes}
        version = current["desired_version"] + 1
        await Device.update(
            {Device.desired: desired, Device.desired_version: version, Device.updated_at: rt.clock.now()}
        ).where(Device.id == device_id)
        await outbox.enqueue(
            rt,
            channel=CHANNEL,
            event="desired",
            aggregate_id=str(device_id),
            payload={"device_id": str(device_id)},
        )
        await audit.record(
            rt,
            actor,
            "device.desired_set",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details={"version": version, **changes},
        )
    return await state_out(rt, await load(device_id))


async def history(rt: Runtime, actor: Actor, device_id: uuid.UUID, limit: int = 200) -> StateHistory:
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    rows = await (
        DeviceStateChange.select()
        .where(DeviceStateChange.device_id == device_id)
        .order_by(DeviceStateChange.id, ascending=False)
        .limit(max(1, min(limit, 1000)))
    )
    return StateHistory(
        items=[
            StateChangeOut(state=r["state"], previous=r["previous"], reason=r["reason"], at=r["at"])
            for r in rows
        ]
    )
