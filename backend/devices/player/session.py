"""How a board's browser proves it is the board, request after request.

The first load carries the device's own credentials (HTTP Basic: the device id and its issued
password, e.g. in a kiosk's start URL). The answer sets a cookie that names the device and the
credential it used, signed with the server's token key, limited to ``/boards/{id}/`` and HttpOnly.
Every later request (the 1-second manifest poll, proof of play, the service worker's refreshes)
shows the cookie; it is honoured only while that credential is still live, so rotating or revoking
the device's password locks the board out at once, as it does at the broker."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import timedelta

from cryptography.exceptions import InvalidSignature
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler

from backend.devices.access import AuthenticatedDevice, authenticate_device
from backend.devices.device_auth import CHALLENGE, basic_credentials
from backend.devices.tables import Device, DeviceCredential
from backend.lib.errors import Forbidden, Unauthorized
from backend.runtime import Runtime

COOKIE = "keng_board"
LIFETIME = timedelta(days=30)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(rt: Runtime, device: AuthenticatedDevice) -> str:
    expires = int((rt.clock.now() + LIFETIME).timestamp())
    body = f"{device.id}:{device.credential_id}:{expires}".encode()
    key = rt.jwt_keys.current
    return f"{_b64(body)}.{key.kid}.{_b64(key.private_key.sign(body))}"


def cookie(request: Request, device_id: uuid.UUID, value: str) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path=f"/boards/{device_id}/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=int(LIFETIME.total_seconds()),
    )


async def _from_cookie(rt: Runtime, value: str) -> AuthenticatedDevice | None:
    try:
        body_text, kid, sig_text = value.split(".")
        body, sig = _unb64(body_text), _unb64(sig_text)
        key = rt.jwt_keys.get(kid)
        if key is None:
            return None
        key.public_key.verify(sig, body)
        device_text, credential_text, expires = body.decode().split(":")
        device_id, credential_id = uuid.UUID(device_text), uuid.UUID(credential_text)
    except (ValueError, binascii.Error, InvalidSignature, UnicodeDecodeError):
        return None
    if int(expires) < rt.clock.now().timestamp():
        return None
    cred = await (
        DeviceCredential.select(DeviceCredential.version)
        .where(
            (DeviceCredential.id == credential_id)
            & (DeviceCredential.device_id == device_id)
            & DeviceCredential.revoked_at.is_null()
        )
        .first()
    )
    device = await Device.select().where(Device.id == device_id).first()
    if cred is None or device is None or device["status"] == "retired":
        return None
    return AuthenticatedDevice(
        id=device_id,
        kind=device["kind"],
        area_code=device["area_code"],
        area_path=device["area_path"],
        group_id=device["group_id"],
        station_id=device["station_id"],
        credential_id=credential_id,
        credential_version=cred["version"],
    )


async def board(
    rt: Runtime, request: Request, device_id: uuid.UUID
) -> tuple[AuthenticatedDevice, str | None]:
    """The board making this request, and a fresh cookie value when it signed in with Basic."""
    fresh = None
    creds = basic_credentials(request.headers.get("authorization", ""))
    if creds is not None:
        device = await authenticate_device(rt, *creds)
        fresh = issue(rt, device) if device is not None else None
    else:
        value = request.cookies.get(COOKIE)
        device = await _from_cookie(rt, value) if value else None
    if device is None:
        raise Unauthorized(headers=CHALLENGE)
    if device.id != device_id or device.kind != "eboard":
        raise Forbidden(details={"device_id": str(device_id)})
    return device, fresh


async def board_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse a request with neither the board's credentials nor its cookie before reading it."""
    if basic_credentials(connection.headers.get("authorization", "")) is None and not connection.cookies.get(
        COOKIE
    ):
        raise Unauthorized(headers=CHALLENGE)
