"""Provisioning: one-time claim codes, revocation and retirement.

A device is pre-registered (over HTTP or from a CSV) and either given credentials by staff or a
claim code, written on the installation sheet. The device posts the code with its hardware id and
gets its own credentials once. The code binds to the first hardware id that uses it; a retry from
that same hardware within ``CLAIM_RETRY`` (the answer was lost on the way) gets fresh credentials,
which revokes the ones it never received — any other use is refused. Only the code's sha256 is
stored. Revocation ends every live credential at once and asks the broker to drop the session."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.devices import access
from backend.devices.credentials import credentials_out, store_credential
from backend.devices.schemas import ClaimCode, ClaimIn, DeviceCredentials
from backend.devices.services import duplicate_hardware, load, read_grant
from backend.devices.tables import Device, DeviceClaim, DeviceCredential
from backend.lib.errors import Conflict, Forbidden
from backend.runtime import Runtime

CLAIM_RETRY = timedelta(minutes=15)
# Unambiguous letters and digits (no 0/O, 1/I/L) so a code read off a sheet is typed right.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_digest(code: str) -> str:
    normalised = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _invalid() -> Forbidden:
    """One answer for unknown, used and expired codes: a guesser learns nothing."""
    return Forbidden("claim_code_invalid", message_key="error.claim_code_invalid")


async def _manage_grant(actor: Actor, row: dict[str, Any]) -> Any:
    read_grant(actor, row["area_path"])
    return actor.require(Permission.DEVICE_MANAGE, [row["area_path"]])


async def store_claim_code(rt: Runtime, device_id: uuid.UUID, created_by: uuid.UUID | None) -> ClaimCode:
    """A new code for the device; earlier unused codes stop working. Inside the caller's transaction."""
    now = rt.clock.now()
    await DeviceClaim.update({DeviceClaim.expires_at: now}).where(
        (DeviceClaim.device_id == device_id) & DeviceClaim.used_at.is_null() & (DeviceClaim.expires_at > now)
    )
    code = new_code()
    expires = now + timedelta(hours=rt.settings.device_claim_hours)
    await DeviceClaim.insert(
        DeviceClaim(
            id=uuid.uuid4(),
            device_id=device_id,
            code_digest=code_digest(code),
            expires_at=expires,
            created_by=created_by,
            created_at=now,
        )
    )
    return ClaimCode(device_id=device_id, code=code, expires_at=expires)


async def issue_claim_code(rt: Runtime, actor: Actor, device_id: uuid.UUID) -> ClaimCode:
    row = await load(device_id)
    grant = await _manage_grant(actor, row)
    if row["status"] == "retired":
        raise Conflict("device_retired", message_key="error.device_retired", details={"id": str(device_id)})
    async with rt.db.transaction():
        claim = await store_claim_code(rt, device_id, actor.account_id)
        await audit.record(
            rt,
            actor,
            "device.claim_code_issue",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details={"expires_at": claim.expires_at.isoformat()},
        )
    return claim


async def claim(rt: Runtime, data: ClaimIn, actor: Actor) -> DeviceCredentials:
    """A device trades its claim code (and hardware id) for its own credentials."""
    now = rt.clock.now()
    async with rt.db.transaction():
        row = await DeviceClaim.select().where(DeviceClaim.code_digest == code_digest(data.code)).first()
        if row is None:
            raise _invalid()
        device = await Device.select().where(Device.id == row["device_id"]).first()
        if device is None or device["status"] == "retired":
            raise _invalid()
        if row["used_at"] is not None:
            retry = row["used_by_hardware"] == data.hardware_id and now - row["used_at"] <= CLAIM_RETRY
            if not retry:
                raise _invalid()
        elif row["expires_at"] <= now:
            raise _invalid()
        if device["hardware_id"] not in (None, data.hardware_id):
            raise _invalid()  # pre-registered for another box: the code was copied
        if device["hardware_id"] is None:
            if await Device.exists().where(Device.hardware_id == data.hardware_id):
                raise duplicate_hardware(data.hardware_id)
            await Device.update({Device.hardware_id: data.hardware_id}).where(Device.id == device["id"])
        used = await (
            DeviceClaim.update({DeviceClaim.used_at: now, DeviceClaim.used_by_hardware: data.hardware_id})
            .where(
                (DeviceClaim.id == row["id"])
                & (DeviceClaim.used_at.is_null() | (DeviceClaim.used_by_hardware == data.hardware_id))
            )
            .returning(DeviceClaim.id)
        )
        if not used:  # a concurrent claim with another hardware id won
            raise _invalid()
        await Device.update({Device.claimed_at: now, Device.updated_at: now}).where(Device.id == device["id"])
        password, version = await store_credential(rt, device["id"], None)
        await audit.record(
            rt,
            actor,
            "device.claim",
            target_type="device",
            target_id=str(device["id"]),
            details={
                "hardware_id": data.hardware_id,
                "version": version,
                "retry": row["used_at"] is not None,
            },
        )
    await access.credentials_changed(rt, device["id"])
    return credentials_out(rt, device["id"], password, version)


async def revoke(rt: Runtime, actor: Actor, device_id: uuid.UUID, *, retire: bool = False) -> int:
    """End every live credential of the device (and, retiring it, the device); returns how many."""
    row = await load(device_id)
    grant = await _manage_grant(actor, row)
    now = rt.clock.now()
    async with rt.db.transaction():
        revoked = await (
            DeviceCredential.update({DeviceCredential.revoked_at: now})
            .where((DeviceCredential.device_id == device_id) & DeviceCredential.revoked_at.is_null())
            .returning(DeviceCredential.id)
        )
        await DeviceClaim.update({DeviceClaim.expires_at: now}).where(
            (DeviceClaim.device_id == device_id)
            & DeviceClaim.used_at.is_null()
            & (DeviceClaim.expires_at > now)
        )
        changes: dict[Any, Any] = {Device.updated_at: now, Device.row_version: Device.row_version + 1}
        if retire:
            changes[Device.status] = "retired"
        await Device.update(changes).where(Device.id == device_id)
        await audit.record(
            rt,
            actor,
            "device.retire" if retire else "device.revoke",
            target_type="device",
            target_id=str(device_id),
            grant=grant,
            details={"credentials": len(revoked)},
        )
    access.forget(device_id)
    await access.credentials_changed(rt, device_id)
    return len(revoked)
