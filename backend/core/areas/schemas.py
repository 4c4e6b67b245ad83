"""API contract for the administrative tree."""

from __future__ import annotations

from typing import Literal

from backend.lib.schema import Schema

Level = Literal["nation", "province", "district", "commune", "village"]
LEVELS: tuple[str, ...] = ("nation", "province", "district", "commune", "village")


class AreaOut(Schema):
    code: str
    name: str
    level: str
    division_type: str
    parent_code: str | None
    path: str
    depth: int


class AreaList(Schema):
    items: list[AreaOut]


class ImportResult(Schema):
    created: int
    updated: int
    unchanged: int
