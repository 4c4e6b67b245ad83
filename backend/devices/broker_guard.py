"""The embedded broker's guard: devices log in with their own credentials, Kẻng with its server
account, nobody anonymously; each device touches only its topics (see ``access.device_topics_allowed``).

A device's client id must be its username or start with ``<username>-``, so no device can take
over another's session by reusing its client id. Its Last Will, if any, must be its own status
topic. Topics are decided at CONNECT; a device moved to another group reconnects to get the new
ones (a move drops its session, so that happens at once). When a device's credentials are
revoked or rotated, every session that logged in with a credential no longer live is dropped at
once."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backend.adapters.broker import Connecting, TopicAction
from backend.adapters.mqtt import topic_matches
from backend.devices.access import (
    AuthenticatedDevice,
    authenticate_device,
    device_topics_allowed,
    filter_within,
)
from backend.devices.server_account import server_credentials
from backend.devices.tables import Device, DeviceCredential
from backend.devices.topics import Topics
from backend.runtime import Runtime
from backend.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Client:
    username: str
    device: AuthenticatedDevice | None  # None: Kẻng's own account
    subscribe: tuple[str, ...] = ()
    publish: frozenset[str] = frozenset()


class DeviceBrokerGuard:
    def __init__(self, settings: Settings) -> None:
        self.topics = Topics.for_settings(settings)
        self.server_username, self._server_password = server_credentials(settings)
        self.rt: Runtime | None = None
        self._clients: dict[str, _Client] = {}
        self._disconnect: Callable[[str], Awaitable[None]] | None = None

    def bind(self, rt: Runtime) -> None:
        """Start checking devices against ``rt``'s registry (until then only Kẻng may connect)."""
        self.rt = rt
        rt.credential_listeners.append(self.credentials_changed)

    def attach(self, disconnect: Callable[[str], Awaitable[None]]) -> None:
        self._disconnect = disconnect

    async def authenticate(self, client: Connecting) -> bool:
        self._clients.pop(client.client_id, None)
        if not client.username:
            return False
        if client.username == self.server_username:
            ok = hmac.compare_digest((client.password or "").encode(), self._server_password.encode())
            if ok:
                self._clients[client.client_id] = _Client(client.username, None)
            return ok
        if self.rt is None:
            return False
        if client.client_id != client.username and not client.client_id.startswith(f"{client.username}-"):
            log.info("device %s refused: client id %r is not its own", client.username, client.client_id)
            return False
        device = await authenticate_device(self.rt, client.username, client.password or "")
        if device is None:
            return False
        subscribe, publish = device_topics_allowed(device, self.topics)
        if client.will_topic is not None and client.will_topic != self.topics.device(
            str(device.id), "status"
        ):
            log.info("device %s refused: Last Will on %s", device.id, client.will_topic)
            return False
        self._clients[client.client_id] = _Client(
            client.username, device, tuple(subscribe), frozenset(publish)
        )
        return True

    async def allowed(self, client_id: str, username: str | None, topic: str, action: TopicAction) -> bool:
        client = self._clients.get(client_id)
        if client is None or client.username != username:
            return False
        if client.device is None:
            return True
        if action == "publish":
            return topic in client.publish
        if action == "subscribe":
            return any(filter_within(topic, allowed) for allowed in client.subscribe)
        return any(topic_matches(allowed, topic) for allowed in client.subscribe)

    async def credentials_changed(self, device_id: uuid.UUID) -> None:
        """Drop the device's sessions that logged in with a credential no longer live, or whose
        topics no longer fit (the device was moved to another area or group, or retired)."""
        sessions = [
            (client_id, c.device)
            for client_id, c in self._clients.items()
            if c.device is not None and c.device.id == device_id
        ]
        if not sessions:
            return
        live = await (
            DeviceCredential.select(DeviceCredential.id)
            .where((DeviceCredential.device_id == device_id) & DeviceCredential.revoked_at.is_null())
            .first()
        )
        now = (
            await Device.select(Device.area_path, Device.group_id, Device.status)
            .where(Device.id == device_id)
            .first()
        )
        for client_id, device in sessions:
            fits = (
                live is not None
                and live["id"] == device.credential_id
                and now is not None
                and now["status"] != "retired"
                and (now["area_path"], now["group_id"]) == (device.area_path, device.group_id)
            )
            if not fits:
                self._clients.pop(client_id, None)
                if self._disconnect is not None:
                    await self._disconnect(client_id)
