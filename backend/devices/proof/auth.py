"""A device's own credentials on the proof-of-play route: the device fallback's HTTP Basic check
(``device_auth``), plus that the device is the one the path names."""

from __future__ import annotations

import uuid

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from backend.devices.access import AuthenticatedDevice
from backend.devices.device_auth import CHALLENGE, basic_credentials, provide_device
from backend.lib.errors import Forbidden, Unauthorized

REALM = CHALLENGE["WWW-Authenticate"]


async def device_from_basic(request: Request, device_id: uuid.UUID) -> AuthenticatedDevice:
    """The device whose credentials the request carries, which must be ``device_id``."""
    device = await provide_device(request)
    if device.id != device_id:
        raise Forbidden(details={"device_id": str(device_id)})
    return device


def basic_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse a request without device credentials before its body is read."""
    if basic_credentials(connection.headers.get("authorization", "")) is None:
        raise Unauthorized(headers=CHALLENGE)
