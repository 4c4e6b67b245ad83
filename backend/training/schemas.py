"""API contract of the training library (staff side) and its coverage report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Schema
from backend.training.files import Kind

Level = Literal["basic", "advanced"]
LEVEL_NAMES = {"basic": "Cơ bản", "advanced": "Nâng cao"}
MaterialStatus = Literal["draft", "published", "withdrawn"]
VersionStatus = Literal["draft", "current", "superseded"]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=4000)]
TopicCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class TopicIn(Schema):
    code: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    name: Title
    description: Description = ""


class TopicOut(Schema):
    code: str
    name: str
    description: str


class TopicList(Schema):
    items: list[TopicOut]


class MaterialIn(Schema):
    """A new material with its first version (a draft until published). The file is uploaded first
    to the sync blob store (``POST /api/v1/sync/blobs``, then chunks) and named here by its sha256."""

    topic: TopicCode
    level: Level
    kind: Kind
    title: Title
    sha256: Sha256
    description: Description = ""
    area: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None  # default: the province
    required: bool = True


class VersionIn(Schema):
    """A new version of a material's file (a draft until published; it replaces an unpublished
    draft). Title and description default to the latest version's. ``retrain``: the content changed
    in substance, so completions of earlier versions no longer count once this one is published."""

    sha256: Sha256
    kind: Kind | None = None
    title: Title | None = None
    description: Description | None = None
    retrain: bool = False


class ReasonIn(Schema):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class VersionOut(Schema):
    id: uuid.UUID
    number: int
    status: VersionStatus
    title: str
    description: str
    kind: Kind
    sha256: str
    size: int
    mime: str
    url: str
    retrain: bool
    created_at: datetime
    published_at: datetime | None
    superseded_at: datetime | None


class MaterialOut(Schema):
    id: uuid.UUID
    topic: str
    topic_name: str
    level: Level
    level_name: str
    required: bool
    area_code: str
    area_path: str
    status: MaterialStatus
    completion_from: int
    current: VersionOut | None
    draft: VersionOut | None
    versions: list[VersionOut]
    created_at: datetime
    updated_at: datetime


class MaterialItem(Schema):
    id: uuid.UUID
    topic: str
    level: Level
    required: bool
    area_code: str
    status: MaterialStatus
    title: str
    number: int | None
    has_draft: bool
    updated_at: datetime


class MaterialList(Schema):
    items: list[MaterialItem]


# Coverage


class CoverageMaterial(Schema):
    id: uuid.UUID
    title: str
    topic: str
    level: Level
    area_code: str
    number: int
    completion_from: int


class MaterialFigure(Schema):
    material: uuid.UUID
    eligible: int  # officials this material reaches
    completed: int
    share: float | None  # percent, one decimal; None when it reaches nobody


class CoverageRow(Schema):
    area_code: str
    area_name: str
    level: str
    officials: int
    trained: int  # officials who completed every required material that reaches them
    share: float | None
    materials: list[MaterialFigure]


class CoverageOut(Schema):
    area_code: str
    area_name: str
    generated_at: datetime
    materials: list[CoverageMaterial]
    total: CoverageRow
    areas: list[CoverageRow]
