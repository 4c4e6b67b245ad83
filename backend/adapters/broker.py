"""The embedded MQTT broker (amqtt) that makes the default setup need nothing else installed."""

from __future__ import annotations

import logging
import socket

from amqtt.broker import Broker
from amqtt.errors import BrokerError

log = logging.getLogger(__name__)


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

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self._pick = port == 0
        self.port = port or free_port(host)
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
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
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
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"
