"""The MQTT side of Kẻng: a message bus interface, the aiomqtt-backed client and an in-memory fake.

The real client keeps one connection for the whole process, reconnects with backoff, and hands
incoming messages to handlers registered by topic filter (the domains' ``mqtt_handlers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiomqtt

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], Awaitable[None]]


class BusUnavailable(Exception):
    """The broker cannot be reached right now; the caller should retry later."""


class MessageBus(Protocol):
    @property
    def connected(self) -> bool: ...

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None: ...

    def subscribe(self, topic_filter: str, handler: Handler) -> None: ...


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parsed = urlparse(url)
        if parsed.scheme not in {"mqtt", "tcp"} or not parsed.hostname:
            raise ValueError(f"unsupported MQTT URL {url!r}: use mqtt://host:port")
        return cls(
            host=parsed.hostname,
            port=parsed.port or 1883,
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
        )


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT wildcard matching (``+`` one level, ``#`` the rest)."""
    f_parts, t_parts = topic_filter.split("/"), topic.split("/")
    for i, part in enumerate(f_parts):
        if part == "#":
            return True
        if i >= len(t_parts) or (part != "+" and part != t_parts[i]):
            return False
    return len(f_parts) == len(t_parts)


class MqttBus:
    """A long-lived aiomqtt connection with automatic reconnect."""

    def __init__(self, address: BrokerAddress, client_id: str) -> None:
        self.address = address
        self.client_id = client_id
        self._client: aiomqtt.Client | None = None
        self._handlers: list[tuple[str, Handler]] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._ready.is_set()

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._handlers.append((topic_filter, handler))

    async def start(self, wait_seconds: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="mqtt-bus")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait_seconds)
        if not self._ready.is_set():
            log.warning(
                "MQTT broker %s:%s not reachable yet; retrying in the background",
                self.address.host,
                self.address.port,
            )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._client = None
        self._ready.clear()

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        client = self._client
        if client is None or not self._ready.is_set():
            raise BusUnavailable(f"not connected to {self.address.host}:{self.address.port}")
        try:
            await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as exc:
            raise BusUnavailable(str(exc)) from exc

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(
                    self.address.host,
                    self.address.port,
                    username=self.address.username,
                    password=self.address.password,
                    identifier=self.client_id,
                    keepalive=30,
                ) as client:
                    self._client = client
                    for topic_filter, _ in self._handlers:
                        await client.subscribe(topic_filter, qos=1)
                    self._ready.set()
                    delay = 0.5
                    async for message in client.messages:
                        await self._dispatch(str(message.topic), bytes(message.payload or b""))
            except aiomqtt.MqttError as exc:
                log.info("MQTT connection lost (%s); reconnecting in %.1fs", exc, delay)
            finally:
                self._ready.clear()
                self._client = None
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, 30.0)

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        for topic_filter, handler in self._handlers:
            if topic_matches(topic_filter, topic):
                try:
                    await handler(topic, payload)
                except Exception:
                    log.exception("MQTT handler for %s failed on %s", topic_filter, topic)


class InMemoryBus:
    """A bus for unit tests: keeps what was published, retained messages, and delivers to handlers."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bool]] = []
        self.retained: dict[str, bytes] = {}
        self._handlers: list[tuple[str, Handler]] = []
        self.connected = True

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._handlers.append((topic_filter, handler))

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        if not self.connected:
            raise BusUnavailable("in-memory bus set to disconnected")
        self.published.append((topic, payload, retain))
        if retain:
            self.retained[topic] = payload
        for topic_filter, handler in self._handlers:
            if topic_matches(topic_filter, topic):
                await handler(topic, payload)
