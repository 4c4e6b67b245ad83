"""Statistics pushed upward: one signed report per Vietnam calendar day.

Each round makes the reports of the days that have ended and have none yet (going back at most
``KENG_UPSTREAM_REPORT_BACKFILL_DAYS`` the first time), signs each once with the current province
key and stores the envelope, then sends every report the upstream has not accepted, oldest first.
The stored envelope is sent unchanged on every retry, so the upstream sees the same bytes and
de-duplicates by (province, period). An unreachable upstream stops the round (no hammering); the
report waits for its ``next_attempt_at`` (exponential backoff, or the upstream's ``Retry-After``)."""

from __future__ import annotations

import hashlib
import logging
import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend.adapters.upstream import UpstreamClient, UpstreamRefused, UpstreamUnavailable
from backend.core.areas import services as areas
from backend.lib.crypto import sign_envelope
from backend.officials.reports import device_figures, feedback_figures, notice_figures, vn_midnight
from backend.runtime import Runtime
from backend.upstream.follow import client_for
from backend.upstream.schemas import ReportFigures, ReportPayload
from backend.upstream.tables import UpstreamReport

log = logging.getLogger(__name__)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_BACKOFF = 6 * 3600.0


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 60.0 * 2 ** min(attempts, 10)) * random.uniform(0.5, 1.0)


async def _sms_figures(rt: Runtime, start: datetime, end: datetime, path: str) -> dict[str, int]:
    rows = await rt.db.fetch(
        'SELECT d."status", COUNT(*) AS n, SUM(d."segments") AS segments, SUM(d."cost") AS cost '
        'FROM "sms_delivery" d JOIN "notice" n ON n."id" = d."notice" '
        'WHERE d."event" = \'published\' AND n."published_at" >= {} AND n."published_at" < {} '
        'AND n."owner_path" LIKE {} GROUP BY d."status"',
        start,
        end,
        f"{path}%",
    )
    by = {r["status"]: r for r in rows}
    sent = by.get("sent")
    return {
        "targeted": sum(int(r["n"]) for r in rows),
        "sent": int(sent["n"]) if sent else 0,
        "failed": int(by["failed"]["n"]) if "failed" in by else 0,
        "segments": int(sent["segments"] or 0) if sent else 0,
        "cost": int(sent["cost"] or 0) if sent else 0,
    }


async def build(rt: Runtime, day: date) -> ReportPayload:
    province = await areas.get(rt, rt.settings.province_code)
    start, end = vn_midnight(day), vn_midnight(day + timedelta(days=1))
    feedback = await feedback_figures(rt, province["path"], start, end)
    figures = ReportFigures(
        devices=msgspec.to_builtins(await device_figures(rt, province["path"])),
        notices=msgspec.to_builtins(await notice_figures(rt, province["path"], start, end)),
        sms=await _sms_figures(rt, start, end, province["path"]),
        feedback={k: v for k, v in msgspec.to_builtins(feedback).items() if k != "monthly"},
    )
    return ReportPayload(
        province_code=province["code"],
        period=day.isoformat(),
        period_start=start,
        period_end=end,
        generated_at=rt.clock.now(),
        figures=figures,
    )


async def prepare(rt: Runtime) -> list[str]:
    """Make and sign the reports of ended days that have none; returns their periods."""
    today = rt.clock.now().astimezone(VN_TZ).date()
    last = (
        await UpstreamReport.select(UpstreamReport.period)
        .order_by(UpstreamReport.period, ascending=False)
        .first()
    )
    first = today - timedelta(days=max(1, rt.settings.upstream_report_backfill_days))
    if last is not None:
        first = max(first, date.fromisoformat(last["period"]) + timedelta(days=1))
    made = []
    day = first
    while day < today:
        payload = await build(rt, day)
        body = msgspec.json.encode(payload)
        await UpstreamReport.insert(
            UpstreamReport(
                period=payload.period,
                period_start=payload.period_start,
                period_end=payload.period_end,
                envelope=sign_envelope(rt.province_keys.current, body).decode(),
                payload_sha256=hashlib.sha256(body).hexdigest(),
                status="pending",
                attempts=0,
                next_attempt_at=rt.clock.now(),
                created_at=rt.clock.now(),
            )
        ).on_conflict(target=UpstreamReport.period, action="DO NOTHING")
        made.append(payload.period)
        day += timedelta(days=1)
    return made


async def push(rt: Runtime, client: UpstreamClient | None = None) -> dict[str, Any]:
    """One round: prepare what is due, send what is pending; returns what happened."""
    if not rt.settings.upstream_url:
        return {}
    made = await prepare(rt)
    own = client is None
    client = client or client_for(rt)
    sent: list[str] = []
    failed: str | None = None
    try:
        due = await (
            UpstreamReport.select()
            .where((UpstreamReport.status == "pending") & (UpstreamReport.next_attempt_at <= rt.clock.now()))
            .order_by(UpstreamReport.period)
        )
        for report in due:
            try:
                answer = await client.post_report(report["envelope"].encode())
            except UpstreamUnavailable as exc:
                await _retry_later(rt, report, str(exc), exc.retry_after)
                failed = str(exc)
                break  # the upstream is down: the others wait too
            except UpstreamRefused as exc:
                await _retry_later(rt, report, str(exc), None)
                failed = str(exc)
                continue
            await UpstreamReport.update(
                {
                    UpstreamReport.status: "accepted",
                    UpstreamReport.accepted_at: rt.clock.now(),
                    UpstreamReport.attempts: UpstreamReport.attempts + 1,
                    UpstreamReport.last_error: "",
                }
            ).where(UpstreamReport.period == report["period"])
            sent.append(f"{report['period']}:{answer.body.get('status', answer.status)}")
    finally:
        if own:
            await client.aclose()
    return {"made": made, "sent": sent, **({"error": failed} if failed else {})}


async def _retry_later(rt: Runtime, report: dict[str, Any], error: str, after: float | None) -> None:
    delay = after if after is not None else backoff(report["attempts"])
    log.warning("upstream report %s not accepted: %s (again in %.0f s)", report["period"], error, delay)
    await UpstreamReport.update(
        {
            UpstreamReport.attempts: UpstreamReport.attempts + 1,
            UpstreamReport.last_error: error[:2000],
            UpstreamReport.next_attempt_at: rt.clock.now() + timedelta(seconds=delay),
        }
    ).where(UpstreamReport.period == report["period"])
