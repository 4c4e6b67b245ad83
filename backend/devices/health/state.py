"""Desired versus reported state, and the history of presence.

Staff set the desired volume or firmware; the desired document (with a version one above the last)
is stored and then published retained on the device's ``state/desired`` topic through the outbox,
so a device that is offline gets it when it reconnects and a broker outage loses nothing. The
delta lists what the device does not run yet: desired fields it reports otherwise, and the group's
current manifests it has not acknowledged in its reported state.

Every published document also carries the device's placement (area, station group and the exact
topic filters it may subscribe to): a device moved to another area or group learns its new topics
from it, without new credentials, and one that was given only credentials learns where it sits on
its first connect. A move stores the new placement among the desired fields too, so the delta shows
it until the device reports that it listens where it now belongs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from backend.broadcast.tables import Manifest
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.outbox import services as outbox
from backend.devices.access import device_topics_allowed
from backend.devices.health.schemas import DesiredIn, DeviceStateOut, Difference, StateChangeOut, StateHistory
from backend.devices.services import load, read_grant
from backend.devices.tables import Device, DeviceStateChange
from backend.devices.topics import Topics
from backend.lib.db import json_column
from backend.runtime import Runtime

CHANNEL = "devices"


@dataclass(frozen=True)
class _Placed:
    """What ``device_topics_allowed`` reads of a device."""

    id: uuid.UUID
    area_path: str
    group_id: uuid.UUID | None


def placement_of(row: dict[str, Any]) -> dict[str, Any]:
    """Where a device sits, as a desired and a reported state carry it (JSON values only, so the
    stored desired placement and the reported one compare equal once the device has moved)."""
    group = row["group_id"]
    return {
        "area_code": row["area_code"],
        "area_path": row["area_path"],
        "group_id": str(group) if group is not None else None,
    }


def desired_document(row: dict[str, Any], topics: Topics) -> dict[str, Any]:
    """What is published on ``state/desired``: the stored desired fields, and the placement the
    registry holds now with the topic filters the broker lets the device subscribe to (so a device
    need not derive them). ``row`` is a whole device row."""
    group = row["group_id"]
    placed = _Placed(row["id"], row["area_path"], group if group is None else uuid.UUID(str(group)))
    subscribe, _ = device_topics_allowed(placed, topics)
    return {
        "schema": 1,
        "version": row["desired_version"],
        **json_column(row["desired"], {}),
        "placement": {**placement_of(row), "subscribe": subscribe},
    }


async def enqueue_publish(rt: Runtime, device_id: uuid.UUID) -> None:
    """Publish the device's desired document once the caller's transaction commits (the outbox
    sends whatever version is stored when it runs)."""
    await outbox.enqueue(
        rt,
        channel=CHANNEL,
        event="desired",
        aggregate_id=str(device_id),
        payload={"device_id": str(device_id)},
    )


async def store_desired(rt: Runtime, device_id: uuid.UUID, changes: dict[str, Any]) -> int:
    """Merge ``changes`` into the desired fields under a new version and publish them; inside the
    caller's transaction. Returns the new version."""
    current = (
        await Device.select(Device.desired, Device.desired_version).where(Device.id == device_id).first()
    )
    desired = {**json_column(current["desired"], {}), **changes}
    version = current["desired_version"] + 1
    await Device.update(
        {Device.desired: desired, Device.desired_version: version, Device.updated_at: rt.clock.now()}
    ).where(Device.id == device_id)
    await enqueue_publish(rt, device_id)
    return version


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
        version = await store_desired(rt, device_id, changes)
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
