"""HTTP authentication of devices: ``Authorization: Basic <device id>:<password>``, the same
credentials as on MQTT. For devices that cannot keep a connection, and browser-based boards."""

from __future__ import annotations

import base64
import binascii

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import SkipValidation

from backend.devices.access import AuthenticatedDevice, authenticate_device
from backend.lib.errors import Unauthorized
from backend.runtime import Runtime

CHALLENGE = {"WWW-Authenticate": 'Basic realm="keng-device", charset="UTF-8"'}


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        username, sep, password = (
            base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


async def provide_device(request: Request) -> AuthenticatedDevice:
    rt: Runtime = request.app.state.rt
    credentials = basic_credentials(request.headers.get("authorization", ""))
    device = await authenticate_device(rt, *credentials) if credentials else None
    if device is None:
        raise Unauthorized(headers=CHALLENGE)
    return device


DeviceDep = SkipValidation[AuthenticatedDevice]


async def basic_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse a request without device credentials before its body is read."""
    if basic_credentials(connection.headers.get("authorization", "")) is None:
        raise Unauthorized(headers=CHALLENGE)
