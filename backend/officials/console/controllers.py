"""The staff web console's pages: thin handlers that call the same services as the REST API and
render Vietnamese templates. Sessions, CSRF and error pages come from ``pages``."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, QueryParameter, SkipValidation
from litestar.response import Redirect, Stream, Template
from litestar.static_files import create_static_files_router

from backend.citizen.feedback.schemas import STATES
from backend.deps import provide_client
from backend.lib.errors import Unauthorized
from backend.officials.console import pages, services, sessions
from backend.officials.console.pages import PREFIX, SECURITY_HEADERS, Page
from backend.officials.console.texts import t
from backend.officials.feedback import export
from backend.officials.feedback import services as feedback
from backend.officials.reports import render
from backend.officials.reports import services as reports

PageDep = SkipValidation[Page]
Year = Annotated[int | None, QueryParameter(ge=2000, le=2100)]
QUEUE_PAGE = 50


def _query(params: dict[str, str], **changes: str | None) -> str:
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v})


class LoginController(Controller):
    path = PREFIX
    include_in_schema = False

    @get("/", name="console:home")
    async def home(self) -> Redirect:
        return Redirect(path=f"{PREFIX}/queue", status_code=303)

    def _login_page(self, request: Request, token: str, status: int = 200, error: str = "") -> Template:
        language = pages.language_of(request)
        response = Template(
            template_name="login.html",
            context={
                **pages.base_context(language, csrf=token),
                "error": error,
                "expired": request.query_params.get("expired") == "1",
                "logged_out": request.query_params.get("out") == "1",
                "next": pages.local_target(request.query_params.get("next")),
            },
            status_code=status,
            headers=SECURITY_HEADERS,
            media_type="text/html; charset=utf-8",
        )
        response.set_cookie(pages.login_cookie(request, token))
        return response

    @get("/login", name="console:login")
    async def login_form(self, request: Request) -> Template:
        return self._login_page(request, sessions.new_secret())

    @post("/login", status_code=303)
    async def login(self, request: Request) -> Template | Redirect:
        rt = request.app.state.rt
        pages.check_origin(request)
        form = await request.form()
        sessions.check_csrf(request.cookies.get(pages.LOGIN_COOKIE, ""), form.get("csrf"))
        client = provide_client(request)
        request.app.state.login_limiter.hit(f"login:{client.addr}", rt.clock.now())
        try:
            secret, _ = await sessions.open_session(
                rt, str(form.get("username", "")), str(form.get("password", "")), client
            )
        except Unauthorized:
            language = pages.language_of(request)
            return self._login_page(request, sessions.new_secret(), 401, t("login.failed", language))
        response = Redirect(path=pages.local_target(str(form.get("next", ""))), status_code=303)
        response.set_cookie(pages.session_cookie(request, secret))
        response.delete_cookie(pages.LOGIN_COOKIE, path=f"{PREFIX}/login")
        return response


class ConsoleController(Controller):
    path = PREFIX
    include_in_schema = False
    dependencies = {"page": Provide(pages.provide_page)}

    @post("/logout", status_code=303)
    async def logout(self, page: PageDep) -> Redirect:
        await sessions.close(page.rt, page.session, page.actor)
        response = page.redirect(f"{PREFIX}/login?out=1")
        response.delete_cookie(pages.COOKIE, path=PREFIX)
        return response

    @get("/queue")
    async def queue(self, page: PageDep) -> Template:
        params = dict(page.request.query_params)
        flt = services.queue_filter(params, QUEUE_PAGE)
        result = await feedback.queue(page.rt, page.actor, flt)
        people = await services.handlers(page.actor)
        assignees = await feedback.account_names({i.handling.assignee for i in result.items})
        without_cursor = {k: v for k, v in params.items() if k not in ("cursor", "done", "count")}
        return page.render(
            "queue.html",
            items=result.items,
            filters=without_cursor,
            categories=await services.categories(page.language),
            handlers=people,
            assignees=assignees,
            areas=await services.area_names({i.area_code for i in result.items}),
            next_url=f"{PREFIX}/queue?{_query(without_cursor, cursor=result.next_cursor)}"
            if result.next_cursor
            else "",
            first_url=f"{PREFIX}/queue?{_query(without_cursor)}" if flt.cursor else "",
            export_url=f"{PREFIX}/queue.csv?{_query(without_cursor)}",
            here=f"{PREFIX}/queue?{_query(params, done=None, count=None)}",
            done=params.get("done", ""),
            count=params.get("count", ""),
            states=STATES,
        )

    @get("/queue.csv")
    async def queue_csv(self, page: PageDep) -> Stream:
        flt = services.queue_filter(dict(page.request.query_params))
        chunks = await export.export_csv(page.rt, page.actor, flt)
        return Stream(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="phan-anh.csv"'},
        )

    @post("/queue/assign", status_code=303)
    async def bulk_assign(self, page: PageDep) -> Redirect:
        count = await services.bulk_assign(
            page.rt, page.actor, page.lists.get("ids", []), page.form.get("assignee", "")
        )
        back = pages.local_target(page.form.get("back"))
        joiner = "&" if "?" in back else "?"
        return page.redirect(f"{back}{joiner}done=bulk_assign&count={count}")

    @get("/feedback/{feedback_id:uuid}")
    async def item(self, page: PageDep, feedback_id: FromPath[uuid.UUID]) -> Template:
        view = await services.item_page(page.rt, page.actor, feedback_id)
        params = page.request.query_params
        categories = await services.categories(page.language)
        return page.render(
            "item.html",
            view=view,
            item=view.item,
            category=categories.get(view.item.category, view.item.category),
            done=params.get("done", ""),
            notice=params.get("notice", ""),
        )

    @post("/feedback/{feedback_id:uuid}/{action:str}", status_code=303)
    async def act(self, page: PageDep, feedback_id: FromPath[uuid.UUID], action: FromPath[str]) -> Redirect:
        notice = await services.act(page.rt, page.actor, feedback_id, action, page.form)
        target = f"{PREFIX}/feedback/{feedback_id}?done={action}"
        return page.redirect(target + (f"&notice={notice}" if notice else ""))

    @get("/dashboard")
    async def dashboard(
        self,
        page: PageDep,
        area: FromQuery[str | None] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> Template:
        out = await reports.dashboard(page.rt, page.actor, area or None, date_from, date_to)
        names = await services.categories(page.language)
        return page.render(
            "dashboard.html",
            out=out,
            categories=names,
            charts=services.dashboard_charts(out, names, page.language),
            on_time=services.on_time_share(out),
        )

    @get("/reports/yearly")
    async def yearly(self, page: PageDep, year: Year = None, area: FromQuery[str | None] = None) -> Template:
        report = await reports.yearly(page.rt, page.actor, year, area or None)
        query = _query({"year": str(report.year), "area": report.area_code})
        return page.render("yearly.html", report=report, body=render.body_html(report), query=query)

    @get("/reports/yearly.csv", media_type="text/csv; charset=utf-8")
    async def yearly_csv(self, page: PageDep, year: Year = None, area: FromQuery[str | None] = None) -> Any:
        report = await reports.yearly(page.rt, page.actor, year, area or None, fmt="csv")
        return _download(render.to_csv(report), "text/csv; charset=utf-8", f"bao-cao-{report.year}.csv")

    @get("/reports/yearly.html", media_type="text/html; charset=utf-8")
    async def yearly_html(self, page: PageDep, year: Year = None, area: FromQuery[str | None] = None) -> Any:
        report = await reports.yearly(page.rt, page.actor, year, area or None, fmt="html")
        printable = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        }
        return Response(render.to_html(report), media_type="text/html; charset=utf-8", headers=printable)


def _download(body: str, media_type: str, filename: str) -> Any:
    return Response(
        body,
        media_type=media_type,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


console_router = Router(
    path="/",
    route_handlers=[
        LoginController,
        ConsoleController,
        create_static_files_router(
            path=f"{PREFIX}/static",
            directories=[pages.STATIC],
            name="console:static",
            include_in_schema=False,
        ),
    ],
    include_in_schema=False,
)
