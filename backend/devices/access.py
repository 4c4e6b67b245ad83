"""Who a device is and what it may touch: password checks and topic permissions.

Used by the embedded broker on every CONNECT, SUBSCRIBE and PUBLISH, by the HTTP fallback and by
the e-board player, so it reads only the device and credential tables and keeps no state but a
cache of passwords that verified (scrypt is slow on purpose; a reconnect storm must not be)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from backend.devices.tables import Device, DeviceCredential
from backend.devices.topics import DEVICE_PUBLISHED, Topics
from backend.lib.crypto import DUMMY_PASSWORD_HASH, verify_password
from backend.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthenticatedDevice:
    """A device whose credentials were just checked: enough to decide its topics and scope."""

    id: uuid.UUID
    kind: str
    area_code: str
    area_path: str
    group_id: uuid.UUID | None
    station_id: uuid.UUID | None
    credential_id: uuid.UUID
    credential_version: int

    @property
    def username(self) -> str:
        return str(self.id)


# Passwords that verified, by credential: a device reconnecting (or a board polling) skips scrypt.
# Only a digest is kept, and the credential row is read (and must be unrevoked) on every check.
_verified: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}


def forget(device_id: uuid.UUID) -> None:
    """Drop a device's cached password (its credentials changed)."""
    _verified.pop(device_id, None)


async def credentials_changed(rt: Runtime, device_id: uuid.UUID) -> None:
    """A device's credentials were issued, rotated or revoked, or it moved: tell the listeners
    (the embedded broker, or the Mosquitto files) at once. A failing listener does not undo the
    change, which is already committed and also checked on the device's next request."""
    forget(device_id)
    for listener in list(rt.credential_listeners):
        try:
            await listener(device_id)
        except Exception:
            log.exception("credential listener failed for device %s", device_id)


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


async def authenticate_device(rt: Runtime, username: str, password: str) -> AuthenticatedDevice | None:
    """The device whose live credential this is, or None (unknown, revoked, retired, wrong)."""
    try:
        device_id = uuid.UUID(username)
    except (ValueError, TypeError):
        await asyncio.to_thread(verify_password, password or "", DUMMY_PASSWORD_HASH)
        return None
    cred = await (
        DeviceCredential.select(DeviceCredential.id, DeviceCredential.version, DeviceCredential.password_hash)
        .where((DeviceCredential.device_id == device_id) & DeviceCredential.revoked_at.is_null())
        .first()
    )
    device = await Device.select().where(Device.id == device_id).first()
    if cred is None or device is None or device["status"] == "retired":
        await asyncio.to_thread(verify_password, password or "", DUMMY_PASSWORD_HASH)
        return None
    cached = _verified.get(device_id)
    if cached is None or cached != (cred["id"], _digest(password or "")):
        if not await asyncio.to_thread(verify_password, password or "", cred["password_hash"]):
            return None
        _verified[device_id] = (cred["id"], _digest(password))
    return AuthenticatedDevice(
        id=device_id,
        kind=device["kind"],
        area_code=device["area_code"],
        area_path=device["area_path"],
        group_id=device["group_id"],
        station_id=device["station_id"],
        credential_id=cred["id"],
        credential_version=cred["version"],
    )


def area_codes_on_path(area_path: str) -> list[str]:
    """``/VN/38/38001/`` → ``["VN", "38", "38001"]``: the area and its ancestors, nation first."""
    return [code for code in area_path.split("/") if code]


def device_topics_allowed(device: Any, topics: Topics) -> tuple[list[str], list[str]]:
    """(subscribe filters, publish topics) of a device: its own command and desired-state topics,
    its group's manifests and the emergencies of its area and every ancestor; it publishes only
    its own reports. ``device`` is anything with ``id``, ``area_path`` and ``group_id``."""
    device_id = str(device.id)
    subscribe = [topics.device(device_id, "commands"), topics.device(device_id, "state/desired")]
    if device.group_id is not None:
        subscribe.append(f"{topics.root}/groups/{device.group_id}/manifest/+")
    subscribe += [topics.area_emergency_filter(code) for code in area_codes_on_path(device.area_path)]
    publish = [topics.device(device_id, channel) for channel in DEVICE_PUBLISHED]
    return subscribe, publish


def filter_within(requested: str, allowed: str) -> bool:
    """Does every topic the ``requested`` subscription filter can match also match ``allowed``?

    ``a/+/c`` is within ``a/#`` and ``a/+/c``, but ``a/#`` is not within ``a/+/c``: a device may
    narrow what it was given, never widen it with a wildcard."""
    req, allow = requested.split("/"), allowed.split("/")
    for i, level in enumerate(allow):
        if level == "#":
            return True
        if i >= len(req):
            return False
        if req[i] == "#":
            return False
        if level == "+":
            continue
        if req[i] != level:
            return False
    return len(req) == len(allow)
