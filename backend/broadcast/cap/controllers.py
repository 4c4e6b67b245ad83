"""Public CAP endpoints: one CAP 1.2 document per message, and the Atom index aggregators poll.

No login: alerts are public by nature. Messages never change once written, so they are cached
long; the index changes with every message and every expiry, so it is cached briefly. Both carry
an ETag and answer ``If-None-Match`` with 304."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from backend.broadcast.cap import services
from backend.broadcast.cap.mapping import sender_name
from backend.broadcast.cap.render import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE, render_atom
from backend.deps import RuntimeDep
from backend.lib.errors import NotFound
from backend.lib.http import errors

MESSAGE_CACHE = "public, max-age=86400"
INDEX_CACHE = "public, max-age=60"


class CapController(Controller):
    path = "/cap"
    tags = ["cap"]
    security = [{}]

    @get(
        "/alerts/{filename:str}",
        operation_id="getCapAlert",
        summary="One CAP 1.2 alert message (`<identifier>.xml`)",
        media_type=CAP_MEDIA_TYPE,
        responses=errors(404),
    )
    async def alert(self, request: Request, rt: RuntimeDep, filename: FromPath[str]) -> Response[bytes]:
        identifier = filename.removesuffix(".xml")
        if identifier == filename or not identifier:
            raise NotFound("cap_message", details={"identifier": filename})
        row = await services.get_message(rt, identifier)
        return _cached(request, row["xml"], CAP_MEDIA_TYPE, MESSAGE_CACHE, row["sent"])

    @get(
        "/atom.xml",
        operation_id="getCapAtomIndex",
        summary="Atom index of current CAP alerts (newest first), each entry linking its CAP message",
        media_type=ATOM_MEDIA_TYPE,
        responses=errors(400),
    )
    async def atom(self, request: Request, rt: RuntimeDep) -> Response[bytes]:
        base = str(request.base_url).rstrip("/")
        name = await sender_name(rt)
        updated = await services.last_change(rt) or rt.clock.now().replace(microsecond=0)
        body = render_atom(
            feed_url=f"{base}/cap/atom.xml",
            alert_url=f"{base}/cap/alerts/{{identifier}}.xml",
            title=f"Cảnh báo hiện hành — {name}",
            author=name,
            updated=updated,
            entries=await services.current_alerts(rt),
        )
        return _cached(request, body, ATOM_MEDIA_TYPE, INDEX_CACHE, updated)


def _cached(request: Request, body: str, media_type: str, cache: str, modified: datetime) -> Response[bytes]:
    data = body.encode("utf-8")
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(data, headers=headers, media_type=media_type)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags
