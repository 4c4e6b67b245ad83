"""The training tests run with a small file limit, so "too big" needs no large file."""

from __future__ import annotations

import dataclasses

import pytest

from backend.settings import Settings
from tests.training.helpers import MAX_BYTES


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, training_max_bytes=MAX_BYTES)
