"""HTTP endpoints of the citizen's feed (compressed app-wide; the feed answers 304 when unchanged)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, QueryParameter

from backend.citizen.feed import services
from backend.citizen.feed.schemas import (
    DEFAULT_LIMIT,
    LANGUAGE_PATTERN,
    FeedChanges,
    FeedItem,
    FeedPage,
    ReceiptOut,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors

# Per-account content: caches may keep it but must ask again every time (the ETag makes that cheap).
CACHE_CONTROL = "private, no-cache"

Lang = Annotated[
    str | None,
    QueryParameter(
        pattern=LANGUAGE_PATTERN,
        max_length=35,
        description="Language of the texts (BCP 47, e.g. vi, en, hmn); default the account's; else Vietnamese",
    ),
]
PageCursor = Annotated[str | None, QueryParameter(min_length=1, max_length=512)]
# Required, but checked after the token so that a request without one is a 401 like everywhere.
SinceCursor = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=512, description="Required: a changes_cursor or an earlier cursor"
    ),
]

NOT_MODIFIED = ResponseSpec(
    data_container=None,
    description="Not modified: the page is the one whose ETag was sent in If-None-Match",
    generate_examples=False,
)


class FeedController(Controller):
    path = "/api/v1/citizen"
    tags = ["citizen"]

    @get(
        "/feed",
        operation_id="getFeed",
        summary="Published notices for the followed areas, newest first (ETag / If-None-Match)",
        responses={304: NOT_MODIFIED, **errors(400, 401, 403)},
        response_headers=[
            ResponseHeader(
                name="ETag",
                description="Weak validator of this page; send it back in If-None-Match",
                documentation_only=True,
            ),
            ResponseHeader(name="Cache-Control", description=CACHE_CONTROL, documentation_only=True),
        ],
    )
    async def feed(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        lang: Lang = None,
        cursor: PageCursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = DEFAULT_LIMIT,
        if_none_match: Annotated[str | None, HeaderParameter(name="if-none-match", required=False)] = None,
    ) -> Response[FeedPage]:
        """Texts are in ``lang`` (default: the account's language) or else Vietnamese; each item
        says which language it is in. Keep ``changes_cursor`` for ``/feed/changes``."""
        answer = await services.feed(rt, actor, lang, cursor, limit, if_none_match)
        headers = {"ETag": answer.etag, "Cache-Control": CACHE_CONTROL}
        if answer.page is None:
            return Response(content=None, status_code=304, headers=headers)
        return Response(content=answer.page, status_code=200, headers=headers)

    @get(
        "/feed/changes",
        operation_id="getFeedChanges",
        summary="What changed in the feed since a cursor: new or replaced notices and removals",
        responses=errors(400, 401, 403),
    )
    async def feed_changes(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        since: SinceCursor = None,
        lang: Lang = None,
    ) -> FeedChanges:
        """``since`` is a ``changes_cursor`` from ``/feed`` or a ``cursor`` from an earlier call.
        Call again while ``more`` is true; on ``reset`` fetch ``/feed`` from the start. A notice
        also leaves the feed at its ``valid_until``: the phone drops it then (it is listed as
        removed once the server's expiry sweep has run)."""
        return await services.read_changes(rt, actor, lang, since)

    @get(
        "/notices/{notice_id:uuid}",
        operation_id="getCitizenNotice",
        summary="One notice, if it is in the citizen's feed",
        responses=errors(400, 401, 403, 404),
    )
    async def get_notice(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        notice_id: FromPath[uuid.UUID],
        lang: Lang = None,
    ) -> FeedItem:
        return await services.read_notice(rt, actor, lang, notice_id)

    @post(
        "/notices/{notice_id:uuid}/opened",
        operation_id="markNoticeOpened",
        summary="Record that the citizen opened a notice (idempotent; counted once)",
        status_code=200,
        responses=errors(401, 403, 404),
    )
    async def opened(self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]) -> ReceiptOut:
        return await services.mark_opened(rt, actor, notice_id)
