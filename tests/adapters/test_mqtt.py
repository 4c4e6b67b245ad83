"""The MQTT bus against a real broker: the embedded one, and Mosquitto when configured."""

import asyncio

import pytest

from backend.adapters.broker import BrokerPortInUse, EmbeddedBroker, free_port
from backend.adapters.mqtt import BrokerAddress, BusUnavailable, MqttBus, topic_matches


@pytest.fixture
async def broker_url(backend):
    if backend.mqtt_url:
        yield backend.mqtt_url
        return
    broker = EmbeddedBroker("127.0.0.1", free_port())
    await broker.start()
    yield broker.url
    await broker.stop()


async def test_publish_and_receive_with_retained_message(broker_url):
    topic = f"keng/v1/test/{free_port()}"
    publisher = MqttBus(BrokerAddress.parse(broker_url), client_id=f"pub-{topic}")
    await publisher.start()
    try:
        await publisher.publish(topic, b'{"v":1}', retain=True)
        got: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

        async def handler(t: str, payload: bytes) -> None:
            await got.put((t, payload))

        subscriber = MqttBus(BrokerAddress.parse(broker_url), client_id=f"sub-{topic}")
        subscriber.subscribe("keng/v1/test/#", handler)
        await subscriber.start()
        try:
            assert await asyncio.wait_for(got.get(), 10) == (topic, b'{"v":1}')  # the retained one
            await publisher.publish(topic, b'{"v":2}')
            assert await asyncio.wait_for(got.get(), 10) == (topic, b'{"v":2}')
        finally:
            await subscriber.stop()
        await publisher.publish(topic, b"", retain=True)  # clear the retained message
    finally:
        await publisher.stop()


async def test_publish_without_connection_raises_bus_unavailable():
    bus = MqttBus(BrokerAddress("127.0.0.1", free_port()), client_id="nobody")
    with pytest.raises(BusUnavailable):
        await bus.publish("keng/v1/x", b"1")


async def test_embedded_broker_port_in_use_names_the_setting():
    first = EmbeddedBroker("127.0.0.1", free_port())
    await first.start()
    try:
        with pytest.raises(BrokerPortInUse, match="KENG_MQTT_PORT"):
            await EmbeddedBroker("127.0.0.1", first.port).start()
    finally:
        await first.stop()


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("keng/v1/#", "keng/v1/a/b", True),
        ("keng/+/a", "keng/v1/a", True),
        ("keng/+/a", "keng/v1/b", False),
        ("keng/v1", "keng/v1/a", False),
        ("keng/v1/+", "keng/v1/a/b", False),
    ],
)
def test_topic_matching(topic_filter, topic, expected):
    assert topic_matches(topic_filter, topic) is expected


def test_broker_url_parsing():
    address = BrokerAddress.parse("mqtt://user:p%40ss@broker.local:2883")
    assert (address.host, address.port, address.username, address.password) == (
        "broker.local",
        2883,
        "user",
        "p@ss",
    )
    with pytest.raises(ValueError, match="mqtt://"):
        BrokerAddress.parse("http://x")


async def test_embedded_broker_on_port_zero_picks_again_when_its_pick_is_taken(monkeypatch):
    taken = EmbeddedBroker("127.0.0.1", free_port())
    await taken.start()
    picks = iter([taken.port, free_port()])
    monkeypatch.setattr("backend.adapters.broker.free_port", lambda host="127.0.0.1": next(picks))
    broker = EmbeddedBroker("127.0.0.1", 0)
    try:
        await broker.start()
        assert broker.port != taken.port
    finally:
        await broker.stop()
        await taken.stop()
