"""Public feeds for commune websites: RSS, Atom, JSON Feed and an embeddable HTML widget per area,
and a public page per notice. No login; cached by ``ETag`` / ``Last-Modified`` with 304 answers."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from backend.citizen.feed.schemas import LANGUAGE_PATTERN, FeedItem
from backend.citizen.feed.services import etag_matches
from backend.citizen.website import render, services
from backend.deps import RuntimeDep
from backend.lib.http import errors
from backend.runtime import Runtime

CACHE_CONTROL = "public, max-age=60"
NOTICE_CACHE = "public, max-age=300"
# Embeddable anywhere, but the page itself may load nothing from anywhere.
WIDGET_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

Lang = Annotated[
    str,
    QueryParameter(
        pattern=LANGUAGE_PATTERN, max_length=35, description="Language of the texts (else Vietnamese)"
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=50, description="Newest notices shown (default 20)")]
NOT_MODIFIED = ResponseSpec(
    data_container=None, description="Not modified since the validator sent", generate_examples=False
)
HEADERS = [
    ResponseHeader(
        name="ETag", description="Validator; send it back in If-None-Match", documentation_only=True
    ),
    ResponseHeader(name="Last-Modified", description="Time of the newest change", documentation_only=True),
    ResponseHeader(name="Cache-Control", description=CACHE_CONTROL, documentation_only=True),
]
Renderer = Callable[[render.FeedContext, list[FeedItem]], str | bytes]


def base_url(request: Request, rt: Runtime) -> str:
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


def _not_modified(request: Request, tag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, tag)
    since = request.headers.get("if-modified-since")
    if since and last_modified is not None:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return last_modified <= moment
    return False


async def _area_feed(
    request: Request, rt: Runtime, code: str, lang: str, limit: int, fmt: str, media_type: str, make: Renderer
) -> Response[bytes]:
    area = await services.area_info(rt, code)
    async with rt.db.reading():
        check, seq = await services.validator(rt, area, lang, limit, fmt)
        headers = {"ETag": check.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if check.last_modified is not None:
            headers["Last-Modified"] = format_datetime(check.last_modified.astimezone(UTC), usegmt=True)
        if fmt == "widget":
            headers["Content-Security-Policy"] = WIDGET_CSP
        if _not_modified(request, check.etag, check.last_modified):
            return Response(b"", status_code=304, headers=headers, media_type=media_type)
        items = await services.items(rt, area, lang, limit, seq)
        names = await services.category_names(rt, lang)
    updated = check.last_modified or rt.clock.now().replace(microsecond=0)
    ctx = render.FeedContext(area.code, area.name, lang, base_url(request, rt), updated, names)
    body = make(ctx, items)
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return Response(data, headers=headers, media_type=media_type)


def _json_feed(ctx: render.FeedContext, items: list[FeedItem]) -> bytes:
    return msgspec.json.encode(render.json_feed(ctx, items))


class WebsiteFeedController(Controller):
    path = "/feeds"
    tags = ["website"]
    security = [{}]

    @get(
        "/areas/{code:str}/rss.xml",
        operation_id="getAreaRss",
        summary="RSS 2.0 feed of an area's published notices (own, ancestors', villages')",
        media_type=RSS_TYPE,
        responses={304: NOT_MODIFIED, **errors(400, 404)},
        response_headers=HEADERS,
    )
    async def rss(
        self, request: Request, rt: RuntimeDep, code: FromPath[str], lang: Lang = "vi", limit: Limit = 20
    ) -> Response[bytes]:
        return await _area_feed(request, rt, code, lang, limit, "rss", RSS_TYPE, render.rss)

    @get(
        "/areas/{code:str}/atom.xml",
        operation_id="getAreaAtom",
        summary="Atom 1.0 feed of an area's published notices",
        media_type=ATOM_TYPE,
        responses={304: NOT_MODIFIED, **errors(400, 404)},
        response_headers=HEADERS,
    )
    async def atom(
        self, request: Request, rt: RuntimeDep, code: FromPath[str], lang: Lang = "vi", limit: Limit = 20
    ) -> Response[bytes]:
        return await _area_feed(request, rt, code, lang, limit, "atom", ATOM_TYPE, render.atom)

    @get(
        "/areas/{code:str}/feed.json",
        operation_id="getAreaJsonFeed",
        summary="JSON Feed 1.1 of an area's published notices",
        media_type=JSON_FEED_TYPE,
        responses={304: NOT_MODIFIED, **errors(400, 404)},
        response_headers=HEADERS,
    )
    async def json_feed(
        self, request: Request, rt: RuntimeDep, code: FromPath[str], lang: Lang = "vi", limit: Limit = 20
    ) -> Response[bytes]:
        return await _area_feed(request, rt, code, lang, limit, "json", JSON_FEED_TYPE, _json_feed)

    @get(
        "/areas/{code:str}/widget.html",
        operation_id="getAreaWidget",
        summary="Embeddable HTML widget (iframe) of an area's notices: Vietnamese, accessible, self-contained",
        media_type=HTML_TYPE,
        responses={304: NOT_MODIFIED, **errors(400, 404)},
        response_headers=HEADERS,
    )
    async def widget(
        self, request: Request, rt: RuntimeDep, code: FromPath[str], lang: Lang = "vi", limit: Limit = 10
    ) -> Response[bytes]:
        return await _area_feed(request, rt, code, lang, limit, "widget", HTML_TYPE, render.widget)

    @get(
        "/notices/{notice_id:uuid}",
        operation_id="getPublicNoticePage",
        summary="Public page of one published notice (what feed items link to)",
        media_type=HTML_TYPE,
        responses={304: NOT_MODIFIED, **errors(400, 404)},
    )
    async def notice(
        self, request: Request, rt: RuntimeDep, notice_id: FromPath[uuid.UUID], lang: Lang = "vi"
    ) -> Response[bytes]:
        item = await services.public_notice(rt, notice_id, lang)
        names = await services.category_names(rt, lang)
        ctx = render.FeedContext("", "", lang, base_url(request, rt), item.published_at, names)
        data = render.notice_page(ctx, item).encode("utf-8")
        tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"ETag": tag, "Cache-Control": NOTICE_CACHE, "Content-Security-Policy": WIDGET_CSP}
        if etag_matches(request.headers.get("if-none-match"), tag):
            return Response(b"", status_code=304, headers=headers, media_type=HTML_TYPE)
        return Response(data, headers=headers, media_type=HTML_TYPE)
