"""Helpers for device tests: devices registered over HTTP with credentials, MQTT clients as a
device or as Kẻng, and waiting for a message without measuring time."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from backend.adapters.mqtt import BrokerAddress
from backend.devices.server_account import server_credentials
from backend.devices.topics import Topics

BASE = "/api/v1/devices"
# Only a guard against a hang: every wait below ends as soon as its message arrives.
WAIT = 10.0


@dataclass(frozen=True)
class Registered:
    id: str
    password: str
    body: dict[str, Any]


async def registered(client, user, area: str = "38001", kind: str = "cluster", **body: Any) -> Registered:
    r = await client.post(BASE, json={"kind": kind, "area_code": area, **body}, headers=user.headers)
    assert r.status_code == 201, r.text
    device = r.json()
    creds = await client.post(f"{BASE}/{device['id']}/credentials", headers=user.headers)
    assert creds.status_code == 201, creds.text
    return Registered(device["id"], creds.json()["password"], device)


def broker_address(client, settings) -> BrokerAddress:
    broker = client.app.state.broker
    return BrokerAddress.parse(broker.url if broker is not None else settings.mqtt_url)


@contextlib.asynccontextmanager
async def as_device(
    address: BrokerAddress, device: Registered, password: str | None = None, **kwargs: Any
) -> AsyncIterator[aiomqtt.Client]:
    kwargs.setdefault("identifier", device.id)
    async with aiomqtt.Client(
        address.host, address.port, username=device.id, password=password or device.password, **kwargs
    ) as mqtt:
        yield mqtt


@contextlib.asynccontextmanager
async def as_server(address: BrokerAddress, settings) -> AsyncIterator[aiomqtt.Client]:
    username, password = server_credentials(settings)
    async with aiomqtt.Client(
        address.host,
        address.port,
        username=username,
        password=password,
        identifier=f"probe-{uuid.uuid4().hex[:8]}",
    ) as mqtt:
        yield mqtt


async def next_message(mqtt: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT):
        async for message in mqtt.messages:
            return message
    raise AssertionError("no message")


def granted(result: Any) -> list[int]:
    """SUBACK codes as ints (128 = refused), whatever aiomqtt's return type."""
    return [int(getattr(code, "value", code)) for code in result]


def topics_of(settings) -> Topics:
    return Topics.for_settings(settings)


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """Wait until ``check()`` returns something truthy (a message went through the broker to
    Kẻng's handlers); only a hang is cut off, nothing is timed."""
    async with asyncio.timeout(WAIT):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.02)


def drop_connection(mqtt: aiomqtt.Client) -> None:
    """Cut the TCP connection without DISCONNECT, as a device losing power does (the broker then
    publishes its Last Will)."""
    sock = mqtt._client.socket()
    sock.shutdown(socket.SHUT_RDWR)


def basic(device: Registered, password: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{device.id}:{password or device.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
