"""Device credentials: each device its own password, issued on demand and shown once.

Issuing a new password revokes the previous ones, so rotation and revocation are one mechanism;
the embedded broker is told at once and drops sessions that logged in with a revoked one. The
password is kept as scrypt (for the broker and the HTTP fallback) and as Mosquitto's ``$7$`` hash
(for the exported password file), both made now since neither can be derived later."""

from __future__ import annotations

import asyncio
import secrets
import uuid

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.devices import access, broker_hash
from backend.devices.health.state import enqueue_publish
from backend.devices.schemas import DeviceCredentials
from backend.devices.services import load, read_grant
from backend.devices.tables import Device, DeviceCredential
from backend.devices.topics import Topics
from backend.lib.crypto import hash_password
from backend.lib.errors import Conflict
from backend.runtime import Runtime


def new_password() -> str:
    return secrets.token_urlsafe(24)


async def store_credential(
    rt: Runtime, device_id: uuid.UUID, created_by: uuid.UUID | None
) -> tuple[str, int]:
    """Revoke the device's live credentials and store a new one; inside the caller's transaction.
    The desired document is published again, so a device that was given only its credentials (a
    claim code) learns its placement and topics on its first connect."""
    password = new_password()
    hashed, for_broker = await asyncio.to_thread(
        lambda: (hash_password(password), broker_hash.mosquitto_hash(password))
    )
    now = rt.clock.now()
    last = await (
        DeviceCredential.select(DeviceCredential.version)
        .where(DeviceCredential.device_id == device_id)
        .order_by(DeviceCredential.version, ascending=False)
        .first()
    )
    version = (last["version"] if last else 0) + 1
    await DeviceCredential.update({DeviceCredential.revoked_at: now}).where(
        (DeviceCredential.device_id == device_id) & DeviceCredential.revoked_at.is_null()
    )
    await DeviceCredential.insert(
        DeviceCredential(
            id=uuid.uuid4(),
            device_id=device_id,
            version=version,
            password_hash=hashed,
            broker_hash=for_broker,
            created_at=now,
            created_by=created_by,
        )
    )
    await Device.update({Device.status: "active", Device.updated_at: now}).where(
        (Device.id == device_id) & (Device.status == "pending")
    )
    await enqueue_publish(rt, device_id)
    access.forget(device_id)
    return password, version


def credentials_out(rt: Runtime, device_id: uuid.UUID, password: str, version: int) -> DeviceCredentials:
    return DeviceCredentials(
        device_id=device_id,
        username=str(device_id),
        password=password,
        version=version,
        mqtt_topic_root=Topics.for_settings(rt.settings).root,
    )


async def issue_credentials(rt: Runtime, actor: Actor, device_id: uuid.UUID) -> DeviceCredentials:
    """A new password for the device (the first, or a rotation that revokes the previous one)."""
    row = await load(device_id)
    read_grant(actor, row["area_path"])
    grant = actor.require(Permission.DEVICE_MANAGE, [row["area_path"]])
    if row["status"] == "retired":
        raise Conflict("device_retired", message_key="error.device_retired", details={"id": str(device_id)})
    async with rt.db.transaction():
        password, version = await store_credential(rt, device_id, actor.account_id)
        await audit.record(
            rt,
            actor,
            "device.credentials_issue",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details={"version": version},
        )
    await access.credentials_changed(rt, device_id)
    return credentials_out(rt, device_id, password, version)
