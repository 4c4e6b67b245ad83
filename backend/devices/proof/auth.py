"""A device's own credentials on HTTP (the fallback for devices that cannot keep an MQTT
connection): HTTP Basic with the device id as user name, checked by the registry."""

from __future__ import annotations

import base64
import binascii
import uuid

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from backend.devices.access import AuthenticatedDevice, authenticate_device
from backend.lib.errors import Forbidden, Unauthorized
from backend.runtime import Runtime

REALM = 'Basic realm="keng-device", charset="UTF-8"'


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


async def device_from_basic(rt: Runtime, request: Request, device_id: uuid.UUID) -> AuthenticatedDevice:
    """The device whose credentials the request carries, which must be ``device_id``."""
    creds = basic_credentials(request.headers.get("authorization", ""))
    device = await authenticate_device(rt, *creds) if creds else None
    if device is None:
        raise Unauthorized(headers={"WWW-Authenticate": REALM})
    if device.id != device_id:
        raise Forbidden(details={"device_id": str(device_id)})
    return device


def basic_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse a request without device credentials before its body is read."""
    if basic_credentials(connection.headers.get("authorization", "")) is None:
        raise Unauthorized(headers={"WWW-Authenticate": REALM})
