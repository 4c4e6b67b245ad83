"""Published notices of one area for commune websites: what the citizen feed would show someone
following the area (its own notices, its ancestors' — a province-wide notice is on every commune's
site — and those of the villages inside it), newest first, in one language.

The validator is the citizen feed's: the highest change-log sequence touching an area that reaches
this one and the next moment a published notice expires, so a website polling every minute costs
one indexed query and a 304 until something really changes."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from backend.citizen.feed.schemas import FeedItem
from backend.citizen.feed.services import FeedView, etag, page, to_item
from backend.citizen.subscriptions.services import Followed
from backend.core.areas import services as areas
from backend.core.categories.tables import Category
from backend.core.changes.tables import ChangeLog
from backend.core.notices.services import PUBLIC_STATES
from backend.core.notices.tables import Notice
from backend.lib.errors import NotFound
from backend.runtime import Runtime

WEBSITE_FORMAT = "website-1"  # part of every validator: bump when a rendering changes
NOBODY = uuid.UUID(int=0)


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name: str
    path: str


@dataclass(frozen=True)
class Validator:
    etag: str
    last_modified: datetime | None


def _view(area: AreaInfo, language: str) -> FeedView:
    scope = Followed(account_id=NOBODY, language=language, paths=(area.path,), categories=())
    return FeedView(scope=scope, language=language)


async def area_info(rt: Runtime, code: str) -> AreaInfo:
    row = await areas.get(rt, code)
    return AreaInfo(code=row["code"], name=row["name"], path=row["path"])


async def validator(
    rt: Runtime, area: AreaInfo, language: str, limit: int, fmt: str
) -> tuple[Validator, int]:
    """The feed's validators without reading the notices; and the sequence they were taken at."""
    tag, seq = await etag(rt, _view(area, language), None, limit)
    raw = "|".join([WEBSITE_FORMAT, fmt, area.code, tag])
    changed = await ChangeLog.select(ChangeLog.at).where(ChangeLog.seq == seq).first() if seq else None
    moment = changed["at"].replace(microsecond=0) if changed else None
    return Validator(etag=f'W/"{hashlib.sha256(raw.encode()).hexdigest()[:32]}"', last_modified=moment), seq


async def items(rt: Runtime, area: AreaInfo, language: str, limit: int, seq: int) -> list[FeedItem]:
    return (await page(rt, _view(area, language), None, limit, seq)).items


async def public_notice(rt: Runtime, notice_id: uuid.UUID, language: str) -> FeedItem:
    """One notice as the public saw it: published (even if since withdrawn, replaced or expired)."""
    row = await Notice.select().where(Notice.id == notice_id).first()
    if row is None or row["status"] not in PUBLIC_STATES or row["published_at"] is None:
        raise NotFound("notice", details={"id": str(notice_id)})
    return to_item(row, language)


async def category_names(rt: Runtime, language: str) -> dict[str, str]:
    rows = await Category.select(Category.code, Category.name_vi, Category.name_en)
    english = language.startswith("en")
    return {r["code"]: (r["name_en"] if english and r["name_en"] else r["name_vi"]) for r in rows}
