"""The embedded MQTT broker (amqtt) that makes the default setup need nothing else installed.

Given a :class:`BrokerGuard`, the broker asks it on every CONNECT (who is this?) and on every
SUBSCRIBE, PUBLISH and delivery (may this client touch this topic?) through two amqtt plugins, and
the guard may drop a live session (a revoked device). Without a guard anyone may connect."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from amqtt.broker import Action, Broker
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

log = logging.getLogger(__name__)

TopicAction = Literal["subscribe", "publish", "receive"]


@dataclass(frozen=True)
class Connecting:
    """What a client presents on CONNECT."""

    client_id: str
    username: str | None
    password: str | None
    will_topic: str | None


class BrokerGuard(Protocol):
    async def authenticate(self, client: Connecting) -> bool: ...

    async def allowed(
        self, client_id: str, username: str | None, topic: str, action: TopicAction
    ) -> bool: ...

    def attach(self, disconnect: Callable[[str], Awaitable[None]]) -> None:
        """Called once the broker runs, with a way to drop a client's session by client id."""


_ACTIONS: dict[Action, TopicAction] = {
    Action.SUBSCRIBE: "subscribe",
    Action.PUBLISH: "publish",
    Action.RECEIVE: "receive",
}


class GuardAuthPlugin(BaseAuthPlugin):
    @dataclass
    class Config:
        guard: Any = None

    async def authenticate(self, *, session: Session) -> bool | None:
        guard: BrokerGuard = self.config.guard
        will = session.will_topic if session.will_flag else None
        password = session.password
        if isinstance(password, bytes | bytearray):
            password = password.decode("utf-8", "replace")
        return await guard.authenticate(
            Connecting(
                client_id=session.client_id or "",
                username=session.username,
                password=password,
                will_topic=will,
            )
        )


class GuardTopicPlugin(BaseTopicPlugin):
    @dataclass
    class Config:
        guard: Any = None

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        guard: BrokerGuard = self.config.guard
        if session is None or not topic or action not in _ACTIONS:
            return False
        return await guard.allowed(session.client_id or "", session.username, topic, _ACTIONS[action])


class BrokerPortInUse(Exception):
    """The configured port is taken; the message names the setting to change."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """An amqtt broker inside this process, listening on ``host:port``."""

    # A port picked by ``free_port`` can be taken by another process before the broker binds it;
    # with port 0 the broker picks again instead of failing.
    PICK_ATTEMPTS = 5

    def __init__(self, host: str, port: int, guard: BrokerGuard | None = None) -> None:
        self.host = host
        self._pick = port == 0
        self.port = port or free_port(host)
        self.guard = guard
        self._broker: Broker | None = None

    async def start(self) -> None:
        for attempt in range(self.PICK_ATTEMPTS):
            try:
                await self._start()
                return
            except BrokerPortInUse:
                if not self._pick or attempt == self.PICK_ATTEMPTS - 1:
                    raise
                self.port = free_port(self.host)

    async def _start(self) -> None:
        plugins: dict[str, Any] = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
        }
        if self.guard is not None:
            plugins = {
                f"{__name__}.GuardAuthPlugin": {"guard": self.guard},
                f"{__name__}.GuardTopicPlugin": {"guard": self.guard},
            }
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": plugins,
        }
        broker = Broker(config)
        try:
            await broker.start()
        except BrokerError as exc:
            if isinstance(exc.__cause__, OSError):
                raise BrokerPortInUse(
                    f"The embedded MQTT broker cannot listen on {self.host}:{self.port} ({exc.__cause__.strerror}). "
                    "Set KENG_MQTT_PORT to a free port, or KENG_MQTT_URL=mqtt://host:port to use a running broker."
                ) from exc
            raise
        self._broker = broker
        if self.guard is not None:
            self.guard.attach(self.disconnect)
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def disconnect(self, client_id: str) -> None:
        """Drop a client's connection as if it had gone away (its Last Will is published)."""
        if self._broker is None:
            return
        _, handler = self._broker.sessions.get(client_id, (None, None))
        if handler is not None:
            await handler.handle_connection_closed()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"
