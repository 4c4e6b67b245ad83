"""API contract for the citizen's notice feed: compact items in one language, offline-friendly."""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.core.notices.schemas import Attachment
from backend.lib.schema import Schema

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

DEFAULT_LIMIT = 20


class FeedItem(Schema):
    """One notice as a phone shows it: the text in one language (``lang`` says which was used)."""

    id: uuid.UUID
    thread_id: uuid.UUID
    version: int
    msg_type: str
    status: str
    category: str
    priority: str
    lang: str
    title: str
    summary: str
    body: str
    published_at: datetime
    valid_until: datetime | None
    references_id: uuid.UUID | None
    attachments: list[Attachment]


class FeedPage(Schema):
    """Newest first. ``next_cursor`` fetches the next (older) page; ``changes_cursor`` is what to
    pass as ``since`` to ``/feed/changes`` later to fetch only what changed after this page."""

    items: list[FeedItem]
    next_cursor: str | None
    changes_cursor: str


class FeedRemoval(Schema):
    """A notice the phone may hold that no longer belongs in the feed (withdrawn, replaced by a
    newer version, expired)."""

    id: uuid.UUID
    thread_id: uuid.UUID
    status: str
    ended_at: datetime | None


class FeedChanges(Schema):
    """What changed since a cursor: notices to add or replace, notices to remove, and the cursor to
    use next time. ``more`` means another call right away would return more. ``reset`` means the
    cursor no longer fits (the citizen's subscriptions changed): fetch ``/feed`` again."""

    items: list[FeedItem]
    removed: list[FeedRemoval]
    cursor: str
    more: bool
    reset: bool = False


class ReceiptOut(Schema):
    notice_id: uuid.UUID
    opened_at: datetime
    first: bool
