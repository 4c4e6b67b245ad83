"""API contract for a citizen's subscriptions."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.lib.schema import Schema

AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
CategoryCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class SubscriptionsIn(Schema):
    """The whole set at once: a phone sends what the citizen ticked, replacing what was there."""

    areas: Annotated[list[AreaCode], msgspec.Meta(min_length=0, max_length=20)]
    categories: Annotated[list[CategoryCode], msgspec.Meta(max_length=50)] = []


class SubscribedArea(Schema):
    code: str
    name: str
    path: str


class SubscriptionsOut(Schema):
    areas: list[SubscribedArea]
    categories: list[str]
