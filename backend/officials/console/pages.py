"""Console plumbing shared by every page: the logged-in page context (session, actor, language,
checked form), rendering, security headers, cookies, and errors shown as Vietnamese pages.

Every console response forbids framing and caching and allows only this site's own scripts and
styles (no CDN, nothing inline except the reports' SVG charts, which are markup, not script)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig

from backend.core.accounts.permissions import Actor, Permission
from backend.deps import provide_client
from backend.lib.errors import DomainError
from backend.lib.http import http_error_parts, request_id_var
from backend.lib.i18n import pick_language, translate
from backend.officials.console import sessions
from backend.officials.console.texts import t
from backend.officials.feedback.deadlines import VN_TZ
from backend.runtime import Runtime

log = logging.getLogger("keng.console")

PREFIX = "/console"
COOKIE = "keng_console"
LOGIN_COOKIE = "keng_console_login"
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def vn_time(moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(VN_TZ)
    return local.strftime("%H:%M %d/%m/%Y") if with_time else local.strftime("%d/%m/%Y")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=True
    )
    env.filters["vn"] = vn_time
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.1%}".replace(".", ",")
    return env


def template_config() -> TemplateConfig:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def session_cookie(request: Request, value: str, max_age: int | None = None) -> Cookie:
    """HttpOnly, SameSite=Strict, Secure when served over https, and only sent to the console."""
    return Cookie(
        key=COOKIE,
        value=value,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        max_age=max_age,
    )


def login_cookie(request: Request, value: str) -> Cookie:
    return Cookie(
        key=LOGIN_COOKIE,
        value=value,
        path=f"{PREFIX}/login",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        max_age=3600,
    )


def language_of(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def check_origin(request: Request) -> None:
    """A browser names the page a POST comes from; one from another site is refused outright."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        here = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != here:
            raise sessions.CsrfFailed()


def local_target(value: str | None, default: str = f"{PREFIX}/queue") -> str:
    """A redirect target from a form or query, kept inside the console (no open redirect)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"{PREFIX}/") or "\\" in value:
        return default
    return value


def base_context(language: str, *, csrf: str = "", me: str = "", can_handle: bool = False) -> dict[str, Any]:
    """What every console template may use: the translator, the language, the form token and who
    is logged in (nothing for the login and error pages)."""
    return {
        "t": lambda key, **params: t(key, language, **params),
        "lang": language,
        "csrf": csrf,
        "me": me,
        "can_handle": can_handle,
    }


@dataclass
class Page:
    """One logged-in request: the runtime, the acting account, its language and the checked form."""

    request: Request
    rt: Runtime
    actor: Actor
    session: sessions.Session
    language: str
    form: Mapping[str, str] = field(default_factory=dict)
    lists: Mapping[str, list[str]] = field(default_factory=dict)

    def t(self, key: str, **params: Any) -> str:
        return t(key, self.language, **params)

    def render(self, template: str, status_code: int = 200, **context: Any) -> Template:
        return Template(
            template_name=template,
            context={**self.context(), **context},
            status_code=status_code,
            headers=SECURITY_HEADERS,
            media_type="text/html; charset=utf-8",
        )

    def context(self) -> dict[str, Any]:
        return base_context(
            self.language,
            csrf=self.session.csrf,
            me=self.actor.username or "",
            can_handle=bool(self.actor.grants_with(Permission.FEEDBACK_HANDLE)),
        )

    def redirect(self, target: str) -> Redirect:
        return Redirect(path=target, status_code=303, headers=SECURITY_HEADERS)


async def provide_page(request: Request) -> Page:
    """Dependency of every logged-in console handler; a POST must carry the session's CSRF token."""
    rt: Runtime = request.app.state.rt
    secret = request.cookies.get(COOKIE)
    session, actor = await sessions.load(rt, secret, provide_client(request))
    page = Page(request=request, rt=rt, actor=actor, session=session, language=language_of(request))
    if request.method == "POST":
        check_origin(request)
        form = await request.form()
        sessions.check_csrf(session.csrf, form.get("csrf"))
        page.form = {k: v for k, v in form.items() if isinstance(v, str)}
        page.lists = {k: [v for v in form.getall(k) if isinstance(v, str)] for k in form}
    return page


# --- errors as pages ------------------------------------------------------------------------------


def _login_redirect(request: Request, expired: bool) -> Redirect:
    target = f"{PREFIX}/login"
    params = []
    if request.method == "GET" and request.url.path not in (f"{PREFIX}/login", PREFIX, f"{PREFIX}/"):
        params.append(
            "next="
            + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
        )
    if expired:
        params.append("expired=1")
    if params:
        target += "?" + "&".join(params)
    response = Redirect(path=target, status_code=303, headers=SECURITY_HEADERS)
    if expired:
        response.delete_cookie(COOKIE, path=PREFIX)
    return response


def error_page(request: Request, exc: Exception) -> Response[Any]:
    """A console error as a Vietnamese page with the right status (or, with no valid session, the
    way to the login page). Nothing internal is shown; a 500 names its request id."""
    language = language_of(request)
    if isinstance(exc, sessions.LoginRequired):
        return _login_redirect(request, exc.expired)
    if isinstance(exc, DomainError):
        status, message, details = (
            exc.status_code,
            translate(exc.message_key, language, **exc.params),
            exc.details,
        )
    elif isinstance(exc, HTTPException):
        status, _, key, details = http_error_parts(exc)
        message = translate(key, language, what="resource")
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, message, details = 500, translate("error.internal", language), None
    if isinstance(details, dict):
        details = [{"field": k, "reason": v} for k, v in details.items()]
    elif not isinstance(details, list):
        details = [] if details is None else [{"field": "", "reason": str(details)}]
    referer = urlsplit(request.headers.get("referer", ""))
    back = local_target(referer.path + (f"?{referer.query}" if referer.query else ""))
    return Template(
        template_name="error.html",
        context={
            **base_context(language),
            "status": status,
            "message": message,
            "details": details,
            "request_id": request_id_var.get(),
            "back": back,
        },
        status_code=status,
        headers=SECURITY_HEADERS,
        media_type="text/html; charset=utf-8",
    )


Handler = Callable[[Request, Any], Response[Any]]


def html_errors(fallback: Handler) -> Handler:
    """An app-wide exception handler that answers console paths with a page and everything else
    as before (the JSON error envelope)."""

    def handler(request: Request, exc: Any) -> Response[Any]:
        path = request.url.path
        if path == PREFIX or path.startswith(f"{PREFIX}/"):
            return error_page(request, exc)
        return fallback(request, exc)

    return handler
