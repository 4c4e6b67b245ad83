"""The MQTT topic tree under ``keng/v1/``: the one place topic names are built.

Content is published where one message reaches many devices: an emergency for an area goes to
that area's topic, which every device in the area (and below it) subscribes to by its ancestors'
codes; a schedule or playlist goes to its station group's topic. So the number of publishes grows
with the number of target areas and groups, never with the number of devices. Only commands,
replies and device reports use per-device topics.

::

    {root}/areas/{area_code}/emergency/{thread_id}   retained  signed emergency manifest (empty = ended)
    {root}/groups/{group_id}/manifest/{kind}         retained  signed manifest, kind = audio | eboard
    {root}/devices/{device_id}/status                retained  online | offline (the Last Will)
    {root}/devices/{device_id}/state/desired         retained  desired state with its version
    {root}/devices/{device_id}/state/reported                  reported state
    {root}/devices/{device_id}/commands                        commands to the device
    {root}/devices/{device_id}/replies                         command replies, correlated by id
    {root}/devices/{device_id}/acks                            manifest acknowledgements
    {root}/devices/{device_id}/proof                           proof of play
    {root}/devices/{device_id}/events                          alarms and errors

``{root}`` is ``keng/v1``, or ``{namespace}/keng/v1`` when ``KENG_MQTT_NAMESPACE`` is set (several
instances on one broker; the test suite gives every test its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from backend.settings import Settings

BASE = "keng/v1"
ManifestKind = Literal["audio", "eboard"]
DeviceChannel = Literal[
    "status", "state/desired", "state/reported", "commands", "replies", "acks", "proof", "events"
]
DEVICE_CHANNELS: tuple[DeviceChannel, ...] = (
    "status",
    "state/desired",
    "state/reported",
    "commands",
    "replies",
    "acks",
    "proof",
    "events",
)
# What devices publish; everything else under the root is published by the server only.
DEVICE_PUBLISHED: tuple[DeviceChannel, ...] = (
    "status",
    "state/reported",
    "replies",
    "acks",
    "proof",
    "events",
)


def _segment(value: str) -> str:
    """A topic level taken from data must not smuggle in levels or wildcards."""
    if not value or any(c in value for c in "/+#\x00"):
        raise ValueError(f"not usable as an MQTT topic level: {value!r}")
    return value


@dataclass(frozen=True)
class Topics:
    root: str

    @classmethod
    def for_settings(cls, settings: Settings) -> Topics:
        namespace = settings.mqtt_namespace.strip("/")
        return cls(f"{namespace}/{BASE}" if namespace else BASE)

    def area_emergency(self, area_code: str, thread_id: str) -> str:
        return f"{self.root}/areas/{_segment(area_code)}/emergency/{_segment(thread_id)}"

    def area_emergency_filter(self, area_code: str) -> str:
        """What a device subscribes to, once per area on its path from the nation down."""
        return f"{self.root}/areas/{_segment(area_code)}/emergency/+"

    def group_manifest(self, group_id: str, kind: ManifestKind) -> str:
        return f"{self.root}/groups/{_segment(group_id)}/manifest/{kind}"

    def device(self, device_id: str, channel: DeviceChannel) -> str:
        return f"{self.root}/devices/{_segment(device_id)}/{channel}"

    def all_devices(self, channel: DeviceChannel) -> str:
        """The server's subscription for one kind of device report."""
        return f"{self.root}/devices/+/{channel}"
