"""API contract for categories of essential information."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.lib.schema import Schema

Code = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class CategoryOut(Schema):
    code: str
    name_vi: str
    name_en: str
    description: str
    active: bool
    position: int


class CategoryList(Schema):
    items: list[CategoryOut]


class CategoryIn(Schema):
    code: Code
    name_vi: Name
    name_en: Annotated[str, msgspec.Meta(max_length=255)] = ""
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    position: int = 0


class CategoryPatch(Schema):
    name_vi: Name | None = None
    name_en: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    active: bool | None = None
    position: int | None = None
