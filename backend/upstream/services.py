"""The link's health for staff, and a manual round (pull now, send reports now)."""

from __future__ import annotations

from typing import Any

from backend.adapters.upstream import UpstreamRefused, UpstreamUnavailable
from backend.core.accounts.permissions import Actor, Permission
from backend.core.areas import services as areas
from backend.core.audit import services as audit
from backend.lib.errors import Conflict
from backend.runtime import Runtime
from backend.upstream import follow, reports
from backend.upstream.schemas import UpstreamStatus
from backend.upstream.tables import UpstreamLink, UpstreamNotice, UpstreamReport


def _not_configured() -> Conflict:
    return Conflict("upstream_not_configured", details={"setting": "KENG_UPSTREAM_URL"})


async def status(rt: Runtime, actor: Actor) -> UpstreamStatus:
    province = await areas.get(rt, rt.settings.province_code)
    actor.require(Permission.NOTICE_READ, [province["path"]])
    if not rt.settings.upstream_url:
        raise _not_configured()
    link = await UpstreamLink.select().where(UpstreamLink.url == rt.settings.upstream_url).first() or {}
    last = await (
        UpstreamReport.select(UpstreamReport.period)
        .where(UpstreamReport.status == "accepted")
        .order_by(UpstreamReport.period, ascending=False)
        .first()
    )
    return UpstreamStatus(
        url=rt.settings.upstream_url,
        cursor=link.get("cursor", "0"),
        last_attempt_at=link.get("last_attempt_at"),
        last_success_at=link.get("last_success_at"),
        last_error=link.get("last_error", ""),
        failures=link.get("failures", 0),
        notices=await UpstreamNotice.count(),
        reports_pending=await UpstreamReport.count().where(UpstreamReport.status == "pending"),
        reports_accepted=await UpstreamReport.count().where(UpstreamReport.status == "accepted"),
        last_report_period=last["period"] if last else None,
    )


async def sync_now(rt: Runtime, actor: Actor) -> UpstreamStatus:
    """Pull and send reports now (after an outage, say) instead of waiting for the schedule."""
    province = await areas.get(rt, rt.settings.province_code)
    grant = actor.require(Permission.NOTICE_APPROVE, [province["path"]])
    if not rt.settings.upstream_url:
        raise _not_configured()
    outcome: dict[str, Any] = {}
    try:
        outcome["pulled"] = await follow.pull(rt)
    except (UpstreamUnavailable, UpstreamRefused) as exc:
        outcome["pull_error"] = str(exc)[:300]
    outcome.update(await reports.push(rt))
    async with rt.db.transaction():
        await audit.record(
            rt,
            actor,
            "upstream.sync",
            target_type="upstream_link",
            target_id=rt.settings.upstream_url,
            grant=grant,
            details=outcome,
        )
    return await status(rt, actor)
