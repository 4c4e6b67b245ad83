"""HTTP endpoints for the staff dashboard and the yearly grassroots-information report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.officials.reports import render, services
from backend.officials.reports.schemas import DashboardOut, YearlyReportOut

ERRORS = errors(401, 403, 404, 422)
Year = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


class ReportController(Controller):
    path = "/api/v1/staff"
    tags = ["reports"]

    @get(
        "/dashboard",
        operation_id="getDashboard",
        summary="Feedback figures for an area subtree and a period (Vietnam calendar days, inclusive)",
        responses=ERRORS,
    )
    async def dashboard(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        area: FromQuery[str | None] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> DashboardOut:
        return await services.dashboard(rt, actor, area, date_from, date_to)

    @get(
        "/reports/yearly",
        operation_id="getYearlyReport",
        summary="The yearly grassroots-information report of a province (JSON)",
        responses=ERRORS,
    )
    async def yearly(
        self, rt: RuntimeDep, actor: ActorDep, year: Year = None, area: FromQuery[str | None] = None
    ) -> YearlyReportOut:
        return await services.yearly(rt, actor, year, area)

    @get(
        "/reports/yearly.csv",
        operation_id="getYearlyReportCsv",
        summary="The yearly report as CSV: one row per figure (section, figure, key, value)",
        responses=ERRORS,
        media_type="text/csv; charset=utf-8",
    )
    async def yearly_csv(
        self, rt: RuntimeDep, actor: ActorDep, year: Year = None, area: FromQuery[str | None] = None
    ) -> str:
        return render.to_csv(await services.yearly(rt, actor, year, area, fmt="csv"))

    @get(
        "/reports/yearly.html",
        operation_id="getYearlyReportHtml",
        summary="The yearly report as a printable page with charts (print to PDF from the browser)",
        responses=ERRORS,
        media_type="text/html; charset=utf-8",
    )
    async def yearly_html(
        self, rt: RuntimeDep, actor: ActorDep, year: Year = None, area: FromQuery[str | None] = None
    ) -> str:
        return render.to_html(await services.yearly(rt, actor, year, area, fmt="html"))
