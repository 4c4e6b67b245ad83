"""The topic-permission checks run against both the embedded broker and a real Mosquitto: device A
may use its own topics, its group's manifests and its areas' emergencies, and nothing of B's."""

from __future__ import annotations

import aiomqtt
import pytest

from backend.adapters.mqtt import BrokerAddress
from backend.devices.topics import Topics
from tests.devices.support import Registered, as_device, as_server, granted, next_message

REFUSED = 128


async def device_is_confined(
    address: BrokerAddress, settings, a: Registered, b: Registered, *, suback_refuses: bool = True
) -> None:
    """The embedded broker refuses a forbidden subscription in its SUBACK; Mosquitto's ACL file
    grants every SUBSCRIBE and instead never delivers what the ACL forbids (``suback_refuses``
    False). Either way A must never receive a message of a topic it may not read."""
    topics = Topics.for_settings(settings)
    own, other = a.body, b.body
    forbidden = {
        topics.device(b.id, "commands"): topics.device(b.id, "commands"),
        topics.device(b.id, "state/desired"): topics.device(b.id, "state/desired"),
        topics.all_devices("commands"): topics.device(b.id, "commands"),
        f"{topics.root}/#": topics.device(b.id, "replies"),
        f"{topics.root}/areas/+/emergency/+": topics.area_emergency(other["area_code"], "t1"),
        topics.area_emergency_filter(other["area_code"]): topics.area_emergency(other["area_code"], "t2"),
        f"{topics.root}/groups/{other['group_id']}/manifest/+": topics.group_manifest(
            other["group_id"], "audio"
        ),
    }
    allowed = [
        topics.device(a.id, "commands"),
        topics.device(a.id, "state/desired"),
        topics.area_emergency_filter(own["area_code"]),
        topics.area_emergency_filter("VN"),
        topics.group_manifest(own["group_id"], "audio"),
    ]
    async with as_server(address, settings) as probe:
        await probe.subscribe(topics.all_devices("status"), qos=1)
        async with as_device(address, a) as mqtt:
            for topic_filter in forbidden:
                codes = granted(await mqtt.subscribe(topic_filter, qos=1))
                assert codes == [REFUSED] if suback_refuses else len(codes) == 1, (topic_filter, codes)
            for topic_filter in allowed:
                assert granted(await mqtt.subscribe(topic_filter, qos=1)) == [1], topic_filter

            # A forges B's status, then reports its own: Kẻng only ever sees A's own.
            await mqtt.publish(topics.device(b.id, "status"), b"online-forged", qos=1)
            await mqtt.publish(topics.device(a.id, "status"), b"online", qos=1)
            seen = await next_message(probe)
            assert (str(seen.topic), seen.payload) == (topics.device(a.id, "status"), b"online")

            # Kẻng publishes on every forbidden topic, then commands A: A's first message is its own.
            for topic in forbidden.values():
                await probe.publish(topic, b"not-for-a", qos=1)
            await probe.publish(topics.device(a.id, "commands"), b"for-a", qos=1)
            got = await next_message(mqtt)
            assert (str(got.topic), got.payload) == (topics.device(a.id, "commands"), b"for-a")


async def refused(address: BrokerAddress, device: Registered, **kwargs) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with as_device(address, device, **kwargs):
            pass


async def strangers_are_refused(address: BrokerAddress, a: Registered) -> None:
    await refused(address, a, password="not-the-password")
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(address.host, address.port, identifier="anonymous-probe"):
            pass
