"""HTTP plumbing shared by all controllers: request ids, the error envelope, and OpenAPI error specs.

Every error leaves as ``{"error": {"code", "message", "details"}}`` with the request id in the
``X-Request-ID`` header; nothing internal (stack traces, SQL) is ever shown to the client."""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
import zlib
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.lib.errors import DomainError, Unauthorized
from backend.lib.i18n import pick_language, translate

log = logging.getLogger("keng.http")
access_log = logging.getLogger("keng.access")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_HEADER = "x-request-id"


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id_var.reset(token)

    return middleware


MAX_INFLATED_BODY = 32 * 1024 * 1024


def request_decompression_middleware(app: ASGIApp) -> ASGIApp:
    """Accept request bodies sent with ``Content-Encoding: gzip`` (phones on 2G compress what they
    push). The body is inflated before the handler sees it, with a cap against zip bombs; a body
    that does not inflate is a 400. A client that disconnects mid-body is passed on as such."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if headers.get(b"content-encoding", b"").strip().lower() != b"gzip":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            inflater = zlib.decompressobj(wbits=31)
            body = inflater.decompress(b"".join(chunks), MAX_INFLATED_BODY)
            if inflater.unconsumed_tail or not inflater.eof:
                raise ValueError("truncated or too large")
        except (zlib.error, ValueError):
            body_out = msgspec.json.encode(
                ErrorBody(
                    error=ErrorDetail(code="bad_encoding", message=translate("error.bad_request", "vi"))
                )
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body_out)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body_out})
            return
        new_headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ] + [(b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": new_headers}, replay, send)

    return middleware


def _error_response(
    request: Request,
    status: int,
    code: str,
    key: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Response[ErrorBody]:
    language = pick_language(request.headers.get("accept-language"))
    body = ErrorBody(
        error=ErrorDetail(code=code, message=translate(key, language, **params), details=details)
    )
    return Response(body, status_code=status, headers=headers or {}, media_type="application/json")


def domain_error_handler(request: Request, exc: DomainError) -> Response[ErrorBody]:
    return _error_response(
        request, exc.status_code, exc.code, exc.message_key, exc.details, exc.headers, **exc.params
    )


_HTTP_CODES = {
    400: ("bad_request", "error.bad_request"),
    401: ("unauthorized", "error.unauthorized"),
    403: ("forbidden", "error.forbidden"),
    404: ("not_found", "error.not_found"),
    405: ("method_not_allowed", "error.method_not_allowed"),
    413: ("payload_too_large", "error.media_too_large"),
    429: ("rate_limited", "error.rate_limited"),
}


def http_error_parts(exc: HTTPException) -> tuple[int, str, str, Any]:
    """(status, code, message key, details) of a framework error, for every way it is shown."""
    status = exc.status_code
    code, key = _HTTP_CODES.get(status, ("http_error", "error.bad_request"))
    details: Any = None
    if isinstance(exc, ValidationException):
        code, key = "invalid_input", "error.validation"
        details = [
            {"field": e.get("key", ""), "reason": e.get("message", "")}
            for e in (exc.extra or [])
            if isinstance(e, dict)
        ] or exc.detail
    elif isinstance(exc, NotAuthorizedException):
        details = None
    elif isinstance(exc.extra, dict):
        details = exc.extra
    return status, code, key, details


def http_error_handler(request: Request, exc: HTTPException) -> Response[ErrorBody]:
    status, code, key, details = http_error_parts(exc)
    headers = dict(exc.headers or {})
    return _error_response(request, status, code, key, details, headers, what="resource")


def internal_error_handler(request: Request, exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(
        request, 500, "internal_error", "error.internal", {"request_id": request_id_var.get()}
    )


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries for the error statuses an operation can answer."""
    descriptions = {
        400: "Malformed request (wrong JSON, wrong types, unknown fields)",
        401: "Missing, invalid or expired access token",
        403: "The account lacks the permission, or the area is outside its grants",
        404: "Not found (or not visible to this account)",
        409: "Conflict with the current state (wrong lifecycle state, stale row_version, duplicate)",
        413: "An attached file or the whole request is larger than allowed",
        415: "An attached file's content is not an accepted type (judged by its bytes, not its name)",
        416: "The requested byte range lies outside the file",
        422: "Well-formed but breaks a rule; details name each field and why",
        429: "Too many requests; see Retry-After",
        503: "A dependency (database or broker) is unreachable",
    }
    return {
        s: ResponseSpec(data_container=ErrorBody, description=descriptions[s], generate_examples=False)
        for s in statuses
    }


async def bearer_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Refuse a request without a bearer token before reading its body or headers (uploads can be
    large); the ``actor`` dependency then checks the token itself. A coroutine: Litestar runs a
    plain function guard in a worker thread, a hop per request for a header check."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="keng"'})


def client_addr(request: Request) -> str:
    return request.client.host if request.client else ""
