"""One simulated device: its own MQTT connection and credentials, a Last Will, the subscriptions
its ACL allows (own commands and desired state, its group's manifests, the emergencies of every
area on its path), signature checks on every manifest, acks, playback with proof of play, command
replies, and unclean drops followed by a comeback. A desired state naming another placement (the
device was moved to another area or station group) moves its subscriptions there, and every later
connection uses the new ones."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from mobile_client_py.device.clock import SCHEMA, SimClock, iso
from mobile_client_py.device.play import Player
from mobile_client_py.manifest import Manifest, ManifestRejected, ManifestVerifier

log = logging.getLogger(__name__)
STOP_SECONDS = 5.0


@dataclass(frozen=True)
class Identity:
    """Who the device is: the registry's id (its MQTT user name), password and placement."""

    device_id: str
    password: str
    kind: str
    area_path: str
    group_id: str | None

    @property
    def area_code(self) -> str:
        """The device's own area: the last code on its path."""
        return [c for c in self.area_path.split("/") if c][-1]


@dataclass
class Behaviour:
    drop_probability: float = 0.0  # chance, every ``tick_seconds``, of an unclean drop
    tick_seconds: float = 10.0
    offline_seconds: float = 2.0  # how long a dropped device stays away
    play: bool = True
    seed: int | None = None


@dataclass(frozen=True)
class Received:
    manifest_id: str
    kind: str
    scope: str
    version: int
    ended: bool
    verified_at: float  # time.perf_counter() when it was verified


@dataclass
class Stats:
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    acks: int = 0
    proofs: int = 0
    replies: int = 0
    connects: int = 0
    drops: int = 0


class SimulatedDevice:
    def __init__(
        self,
        identity: Identity,
        host: str,
        port: int,
        root: str,
        verifier: ManifestVerifier,
        clock: SimClock,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.identity = identity
        self.host, self.port, self.root = host, port, root
        self.verifier = verifier
        self.clock = clock
        self.behaviour = behaviour or Behaviour()
        self.stats = Stats()
        self.volume = 70
        self.desired_version: int | None = None
        self.reported_version = 0
        self.connected = asyncio.Event()
        self.player = Player(self)
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random(self.behaviour.seed)
        self._stopping = False
        self._dropped = asyncio.Event()
        self.unsent: list[tuple[str, dict[str, Any]]] = []  # reports kept while offline
        # The topic filters the last desired document named; None: derived from the identity.
        self.topic_filters: list[str] | None = None
        self.moves = 0  # placements changed by a desired document

    # --- topics ---------------------------------------------------------------------------------

    def own(self, channel: str) -> str:
        return f"{self.root}/devices/{self.identity.device_id}/{channel}"

    def subscriptions(self) -> list[str]:
        if self.topic_filters is not None:
            return list(self.topic_filters)
        subs = [self.own("commands"), self.own("state/desired")]
        if self.identity.group_id:
            subs.append(f"{self.root}/groups/{self.identity.group_id}/manifest/+")
        codes = [c for c in self.identity.area_path.split("/") if c]
        return subs + [f"{self.root}/areas/{c}/emergency/+" for c in codes]

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"device-{self.identity.device_id[:8]}")

    async def stop(self) -> None:
        """A clean stop: ``offline`` is published by the device itself, then it disconnects. Each
        step is bounded: a broker that stops answering must not keep a device from stopping (it
        is then cut off, as by a power cut, and the broker publishes its Will)."""
        self._stopping = True
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(STOP_SECONDS):
                    await self.publish(
                        "status",
                        {"schema": SCHEMA, "state": "offline", "at": iso(self.clock.now())},
                        retain=True,
                    )
        self.player.cancel_all()
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=STOP_SECONDS)
            if not done:
                log.warning("device %s did not stop in time; cutting its connection", self.identity.device_id)
                self.drop()
                await asyncio.wait({self._task}, timeout=STOP_SECONDS)

    def drop(self) -> None:
        """Lose the connection without a DISCONNECT, as a power cut does: the broker sends the Will."""
        client = self._client
        sock = client._client.socket() if client is not None else None  # paho underneath
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._dropped.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                log.debug("device %s lost its connection: %s", self.identity.device_id, exc)
            self._client = None
            self.connected.clear()
            if self._stopping:
                return
            self.stats.drops += 1
            await asyncio.sleep(self.behaviour.offline_seconds if self._dropped.is_set() else 0.5)
            self._dropped.clear()

    async def _session(self) -> None:
        offline = json.dumps({"schema": SCHEMA, "state": "offline"}).encode()
        async with aiomqtt.Client(
            self.host,
            self.port,
            username=self.identity.device_id,
            password=self.identity.password,
            identifier=f"{self.identity.device_id}-sim",  # the broker wants the user name first
            keepalive=30,
            will=aiomqtt.Will(self.own("status"), offline, qos=1, retain=True),
            clean_session=True,
        ) as client:
            self._client = client
            self.stats.connects += 1
            for topic in self.subscriptions():
                await client.subscribe(topic, qos=1)
            await self.publish(
                "status", {"schema": SCHEMA, "state": "online", "at": iso(self.clock.now())}, retain=True
            )
            self.connected.set()
            while self.unsent:
                channel, body = self.unsent[0]
                await self.publish(channel, body)
                self.unsent.pop(0)
            dice = asyncio.create_task(self._dice()) if self.behaviour.drop_probability > 0 else None
            try:
                async for message in client.messages:
                    await self._on_message(str(message.topic), bytes(message.payload or b""))
            finally:
                if dice is not None:
                    dice.cancel()

    async def _dice(self) -> None:
        while True:
            await asyncio.sleep(self.behaviour.tick_seconds)
            if self._rng.random() < self.behaviour.drop_probability:
                self.drop()
                return

    # --- messages -------------------------------------------------------------------------------

    async def publish(self, channel: str, body: dict[str, Any], *, retain: bool = False) -> None:
        client = self._client
        if client is None:
            raise aiomqtt.MqttError("not connected")
        await client.publish(self.own(channel), json.dumps(body).encode(), qos=1, retain=retain)

    async def _on_message(self, topic: str, payload: bytes) -> None:
        if "/emergency/" in topic or "/manifest/" in topic:
            if payload:  # an empty retained message only clears the topic
                await self.on_manifest(payload)
        elif topic == self.own("commands"):
            await self._on_command(payload)
        elif topic == self.own("state/desired"):
            await self._on_desired(payload)

    async def on_manifest(self, envelope: bytes) -> Manifest | None:
        now = self.clock.now()
        try:
            manifest = self.verifier.verify(envelope, now)
        except ManifestRejected as exc:
            self.stats.rejected.append(exc.reason)
            await self._ack(None, "rejected", exc.reason)
            await self.publish(
                "events",
                {
                    "schema": SCHEMA,
                    "type": "manifest_verification_failed",
                    "active": True,
                    "details": {"reason": exc.reason, "at": iso(now)},
                },
            )
            return None
        self.stats.received.append(
            Received(
                manifest.manifest_id,
                manifest.kind,
                manifest.scope,
                manifest.version,
                manifest.ended,
                time.perf_counter(),
            )
        )
        await self._ack(manifest, "accepted", "")
        if self.behaviour.play:
            self.player.take(manifest)
        return manifest

    async def _ack(self, manifest: Manifest | None, result: str, reason: str) -> None:
        await self.publish(
            "acks",
            {
                "schema": SCHEMA,
                "manifest_id": manifest.manifest_id if manifest else None,
                "scope": manifest.scope if manifest else "",
                "kind": manifest.kind if manifest else "",
                "version": manifest.version if manifest else None,
                "result": result,
                "reason": reason,
                "at": iso(self.clock.now()),
            },
        )
        self.stats.acks += 1

    async def _on_command(self, payload: bytes) -> None:
        try:
            command = json.loads(payload)
            correlation = str(command["id"])
        except (ValueError, KeyError, TypeError):
            return
        name, args = command.get("kind"), command.get("params") or {}
        status, detail = "succeeded", ""
        if name == "set_volume" and isinstance(args.get("volume"), int) and 0 <= args["volume"] <= 100:
            self.volume = args["volume"]
        elif name == "stop":
            self.player.cancel_all()
        elif name in ("play_now", "refresh_manifest", "relay_start", "relay_stop", "reboot"):
            pass
        else:
            status, detail = "failed", f"unsupported command {name!r}"
        await self.publish(
            "replies",
            {
                "schema": SCHEMA,
                "id": correlation,
                "status": status,
                "result": {"detail": detail} if detail else {},
            },
        )
        self.stats.replies += 1
        if name == "set_volume" and status == "succeeded":
            await self.report_state()
        if name == "reboot":
            self.drop()

    async def _on_desired(self, payload: bytes) -> None:
        try:
            desired = json.loads(payload)
            volume = desired.get("volume")
            version = int(desired["version"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        if self.desired_version is not None and version < self.desired_version:
            return  # an older document than the one applied
        self.desired_version = version
        if isinstance(volume, int) and 0 <= volume <= 100:
            self.volume = volume
        placement = desired.get("placement")
        if isinstance(placement, dict):
            await self.move_to(placement)
        await self.report_state()

    async def move_to(self, placement: dict[str, Any]) -> None:
        """Take the placement of a desired document: stop listening to the old area's and group's
        topics, listen to the new ones. The same credentials stay valid."""
        try:
            area_path, group_id = str(placement["area_path"]), placement.get("group_id")
        except (KeyError, TypeError):
            return
        filters = placement.get("subscribe")
        before = self.subscriptions()
        self.identity = dataclasses.replace(
            self.identity, area_path=area_path, group_id=str(group_id) if group_id else None
        )
        if isinstance(filters, list) and all(isinstance(f, str) for f in filters):
            self.topic_filters = list(filters)
        after = self.subscriptions()
        if set(after) == set(before):
            return
        self.moves += 1
        client = self._client
        if client is None:  # the next connection subscribes to the new ones
            return
        gone = [t for t in before if t not in after]
        if gone:
            await client.unsubscribe(gone)
        for topic in after:
            if topic not in before:
                await client.subscribe(topic, qos=1)

    def placement(self) -> dict[str, Any]:
        return {
            "area_code": self.identity.area_code,
            "area_path": self.identity.area_path,
            "group_id": self.identity.group_id,
        }

    async def report_state(self) -> None:
        self.reported_version += 1
        manifests = {
            scope.rsplit(":", 1)[-1]: v
            for scope, v in self.verifier.held.items()
            if scope.startswith("group:")
        }
        await self.publish(
            "state/reported",
            {
                "schema": SCHEMA,
                "version": self.reported_version,
                "volume": self.volume,
                "manifests": manifests,
                "playing": bool(self.player.tasks),
                "placement": self.placement(),
            },
        )
