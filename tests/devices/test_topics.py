"""The topic tree: one place builds every name, and data cannot smuggle in levels or wildcards."""

import pytest

from backend.adapters.mqtt import topic_matches
from backend.devices.topics import DEVICE_CHANNELS, Topics
from backend.settings import Settings


def test_root_without_and_with_namespace():
    assert Topics.for_settings(Settings()).root == "keng/v1"
    assert Topics.for_settings(Settings(mqtt_namespace="tinh38/")).root == "tinh38/keng/v1"


def test_one_area_filter_reaches_every_emergency_of_that_area_only():
    topics = Topics("keng/v1")
    flt = topics.area_emergency_filter("38001")
    assert topic_matches(flt, topics.area_emergency("38001", "t-1"))
    assert not topic_matches(flt, topics.area_emergency("38002", "t-1"))
    assert topics.group_manifest("g1", "audio") == "keng/v1/groups/g1/manifest/audio"


def test_server_subscription_covers_each_device_channel():
    topics = Topics("keng/v1")
    for channel in DEVICE_CHANNELS:
        assert topic_matches(topics.all_devices(channel), topics.device("d-1", channel))
        assert not topic_matches(topics.all_devices(channel), topics.device("d-1", "status") + "/x")


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "x\x00"])
def test_data_cannot_become_levels_or_wildcards(bad):
    with pytest.raises(ValueError, match="topic level"):
        Topics("keng/v1").device(bad, "commands")
