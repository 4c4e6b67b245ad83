"""HTTP endpoints of Open311 GeoReport v2 at ``/open311/v2/`` (JSON and XML).

Every failure here answers in GeoReport's shape — ``[{"code", "description"}]`` or
``<errors><error>…`` — with 404 for an unknown resource, 403 for a missing or bad ``api_key``, 429
(with ``Retry-After``) when a client sends too much, and 400 for everything else."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from backend.citizen.feedback import open311, open311_requests
from backend.citizen.feedback.controllers import submit_limits
from backend.deps import RuntimeDep
from backend.lib.errors import DomainError
from backend.lib.http import client_addr
from backend.lib.i18n import pick_language, translate

log = logging.getLogger("keng.open311")


def _fmt_of(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def _error(
    request: Request, status: int, description: str, headers: dict[str, str] | None = None
) -> Response:
    fmt = _fmt_of(request)
    return Response(
        open311.render_errors(fmt, status, description),
        status_code=status,
        media_type=open311.FORMATS[fmt],
        headers=headers or {},
    )


def open311_error_handler(request: Request, exc: open311.Open311Error) -> Response:
    return _error(request, exc.status, exc.description, exc.headers)


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    language = pick_language(request.headers.get("accept-language"))
    status = exc.status_code if exc.status_code in {403, 404, 429} else 400
    message = translate(exc.message_key, language, **exc.params)
    detail = f" ({exc.details})" if exc.details else ""
    return _error(request, status, message + detail, exc.headers)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code if exc.status_code in {403, 404, 429} else 400
    if exc.status_code >= 500:
        status = exc.status_code
    return _error(request, status, str(exc.detail), dict(exc.headers or {}))


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("open311 %s %s failed", request.method, request.url.path, exc_info=exc)
    return _error(request, 500, "internal error; it has been logged")


def _op_id(name: str) -> Any:
    """One operation id per path (``getServicesJson``, ``getServicesXml``)."""

    def make(handler: Any, method: Any, path: list[Any]) -> str:
        last = str(path[-1]) if path else ""
        suffix = "Xml" if last.endswith(".xml") else "Json" if last.endswith(".json") else ""
        return f"{name}{suffix}"

    return make


def _ok(fmt: str, body: Any, root: str, item: str | None = None) -> Response:
    return Response(open311.render(fmt, body, root, item), media_type=open311.FORMATS[fmt], status_code=200)


ERRORS = {
    s: ResponseSpec(data_container=list[dict[str, Any]], description=d, generate_examples=False)
    for s, d in {
        400: "GeoReport error list: a parameter is missing or invalid",
        403: "GeoReport error list: api_key missing or invalid",
        404: "GeoReport error list: unknown resource, service_code, request or token",
        429: "GeoReport error list: too many requests; see Retry-After",
    }.items()
}


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["open311"]
    security = [{}]
    exception_handlers = {
        open311.Open311Error: open311_error_handler,
        DomainError: domain_error_handler,
        HTTPException: http_error_handler,
        Exception: internal_error_handler,
    }

    @get(
        ["/discovery.json", "/discovery.xml"],
        operation_id=_op_id("open311Discovery"),
        summary="GeoReport v2 service discovery",
        responses={404: ERRORS[404]},
    )
    async def discovery(self, request: Request, rt: RuntimeDep) -> Response:
        base = str(request.base_url).rstrip("/") + self.path
        return _ok(_fmt_of(request), open311.discovery(base), "discovery")

    @get(
        ["/services.json", "/services.xml"],
        operation_id=_op_id("open311Services"),
        summary="Service list: the feedback categories",
        responses={404: ERRORS[404]},
    )
    async def services(
        self, request: Request, rt: RuntimeDep, jurisdiction_id: FromQuery[str | None] = None
    ) -> Response:
        open311.check_jurisdiction(rt, jurisdiction_id)
        return _ok(_fmt_of(request), await open311.service_list(rt), "services", "service")

    @get(
        "/services/{name:str}",
        operation_id="open311ServiceDefinition",
        summary="Service definition (attributes) of one service: services/{service_code}.{json|xml}",
        responses={404: ERRORS[404]},
    )
    async def service_definition(
        self, rt: RuntimeDep, name: FromPath[str], jurisdiction_id: FromQuery[str | None] = None
    ) -> Response:
        code, fmt = open311.split_name(name)
        open311.check_jurisdiction(rt, jurisdiction_id)
        return _ok(fmt, await open311.service_definition(rt, code), "service_definition")

    @get(
        ["/requests.json", "/requests.xml"],
        operation_id=_op_id("open311GetRequests"),
        summary="Service requests: last 90 days (or the given range, at most 90 days), at most 1,000",
        responses={400: ERRORS[400], 404: ERRORS[404]},
    )
    async def get_requests(
        self,
        request: Request,
        rt: RuntimeDep,
        service_request_id: FromQuery[str | None] = None,
        service_code: FromQuery[str | None] = None,
        start_date: FromQuery[str | None] = None,
        end_date: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        jurisdiction_id: FromQuery[str | None] = None,
    ) -> Response:
        open311.check_jurisdiction(rt, jurisdiction_id)
        params = {
            "service_request_id": service_request_id,
            "service_code": service_code,
            "start_date": start_date,
            "end_date": end_date,
            "status": status,
        }
        return _ok(
            _fmt_of(request), await open311_requests.list_requests(rt, params), "service_requests", "request"
        )

    @post(
        ["/requests.json", "/requests.xml"],
        operation_id=_op_id("open311CreateRequest"),
        summary="Create a service request (form-encoded, api_key required; multipart may add a 'media' photo)",
        responses=ERRORS,
        status_code=200,
    )
    async def create_request(self, request: Request, rt: RuntimeDep) -> Response:
        fmt = _fmt_of(request)
        content_type, _ = request.content_type
        if content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            raise open311.Open311Error(400, "send the request as application/x-www-form-urlencoded")
        form = await request.form()
        flat: dict[str, Any] = {}
        uploads: list[open311_requests.Upload] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "media":
                    raise open311.Open311Error(
                        400, f"unexpected file field {key!r}; only 'media' may be a file"
                    )
                uploads.append(open311_requests.Upload(kind="photo", data=await value.read()))
            elif key in flat:
                raise open311.Open311Error(400, f"{key} given more than once")
            else:
                flat[key] = value
        open311.check_jurisdiction(rt, flat.get("jurisdiction_id"))
        api_key = await open311.check_key(rt, flat.get("api_key") or request.query_params.get("api_key"))
        submit_limits(request, rt).hit(rt.clock.now(), flat.get("device_id"), client_addr(request))
        return _ok(
            fmt,
            await open311_requests.create_request(rt, flat, uploads, api_key),
            "service_requests",
            "request",
        )

    @get(
        "/requests/{name:str}",
        operation_id="open311GetRequest",
        summary="One service request: requests/{service_request_id}.{json|xml}",
        responses={404: ERRORS[404]},
    )
    async def get_request(
        self, rt: RuntimeDep, name: FromPath[str], jurisdiction_id: FromQuery[str | None] = None
    ) -> Response:
        raw_id, fmt = open311.split_name(name)
        open311.check_jurisdiction(rt, jurisdiction_id)
        return _ok(fmt, await open311_requests.get_request(rt, raw_id), "service_requests", "request")

    @get(
        "/tokens/{name:str}",
        operation_id="open311GetToken",
        summary="The service_request_id behind a token: tokens/{token}.{json|xml}",
        responses={404: ERRORS[404]},
    )
    async def token(
        self, rt: RuntimeDep, name: FromPath[str], jurisdiction_id: FromQuery[str | None] = None
    ) -> Response:
        token, fmt = open311.split_name(name)
        open311.check_jurisdiction(rt, jurisdiction_id)
        return _ok(fmt, await open311_requests.token_lookup(rt, token), "service_requests", "request")

    @get("/{name:str}", include_in_schema=False)
    async def unknown_get(self, name: FromPath[str]) -> Response:
        raise open311.Open311Error(404, f"unknown resource {name!r}")

    @post("/{name:str}", include_in_schema=False, status_code=404)
    async def unknown_post(self, name: FromPath[str]) -> Response:
        raise open311.Open311Error(404, f"unknown resource {name!r}")
