"""The downstream's side: follow an upstream, keep its notices, adopt them into local notices.

``pull`` fetches pages of notice versions after the stored cursor, stores each under the upstream's
own id, thread and version (a later state of the same version replaces the stored one), and only
then moves the cursor — so an upstream outage, or a crash halfway, costs nothing but a repeat of
the same idempotent page. What an upstream change means for local notices:

* an adopted version's **update** is drafted as a local update of the local notice (``new_version``)
  and submitted for approval — or published at once when it is an emergency and
  ``KENG_UPSTREAM_AUTO_PUBLISH_EMERGENCY`` is on; when the local notice is still awaiting approval,
  it takes the update's content instead and is submitted again;
* an adopted version's **cancellation** or **withdrawal** withdraws the local notice at once:
  stopping information the source has withdrawn never waits;
* a new upstream **emergency** is published locally at once when auto-publish is on; anything else
  waits for a provincial approver to adopt it.

Automatic steps act as the upstream link (a system actor with the province approver's rights on
this province), through the same lifecycle functions as people, so each is audited. A local notice
is created at most once per upstream version: the version is claimed (``adopting``) before the
local notice is created; a crash in between leaves it ``adopting``, and the next pull that sees it
after a lease finishes or releases it (``_resume``), so it is adopted once, not never and not twice."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.adapters.upstream import HttpUpstreamClient, UpstreamClient, UpstreamRefused, UpstreamUnavailable
from backend.core.accounts.permissions import Actor, Grant, Permission, Role, within
from backend.core.areas import services as areas
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.core.categories.tables import Category
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import ActionIn, NewVersionIn, NoticeIn, NoticeOut, NoticePatch, NoticeText
from backend.core.notices.tables import Notice
from backend.lib.db import json_column
from backend.lib.errors import Conflict, DomainError, NotFound
from backend.runtime import Runtime
from backend.upstream.schemas import (
    AdoptIn,
    ExchangeNotice,
    ExchangePage,
    UpstreamNoticeList,
    UpstreamNoticeOut,
)
from backend.upstream.tables import UpstreamLink, UpstreamNotice

log = logging.getLogger(__name__)

PAGE = 200
MAX_PAGES = 50
UPSTREAM_ACTOR_ID = uuid.uuid5(uuid.NAMESPACE_URL, "keng:upstream-link")
FALLBACK_CATEGORY = "policy_law"
# An adoption claimed longer ago than this and still ``adopting`` was cut off by a crash.
ADOPT_LEASE = timedelta(minutes=5)
PENDING = ("draft", "submitted", "approved")  # local states not yet public


def client_for(rt: Runtime) -> UpstreamClient:
    return HttpUpstreamClient(rt.settings.upstream_url, user_agent=f"keng/{rt.settings.province_code}")


async def _province(rt: Runtime) -> dict[str, Any]:
    return await areas.get(rt, rt.settings.province_code)


def link_actor(province: dict[str, Any]) -> Actor:
    """The upstream link acting on its own: a province approver of this province, nothing more."""
    grant = Grant(role=Role.PROVINCE_APPROVER, area_code=province["code"], area_path=province["path"])
    return Actor(
        account_id=UPSTREAM_ACTOR_ID,
        kind="system",
        grants=(grant,),
        username="upstream",
        extra={"reason": "upstream"},
    )


# --- pulling ------------------------------------------------------------------------------------------


async def _link(rt: Runtime) -> dict[str, Any]:
    url = rt.settings.upstream_url
    row = await UpstreamLink.select().where(UpstreamLink.url == url).first()
    if row is None:
        await UpstreamLink.insert(UpstreamLink(url=url, cursor="0")).on_conflict(
            target=UpstreamLink.url, action="DO NOTHING"
        )
        row = await UpstreamLink.select().where(UpstreamLink.url == url).first()
    assert row is not None
    return row


async def pull(rt: Runtime, client: UpstreamClient | None = None) -> int:
    """Fetch what changed upstream since the cursor and act on it; returns versions stored."""
    if not rt.settings.upstream_url:
        return 0
    own = client is None
    client = client or client_for(rt)
    # Adoptions a crash cut off are finished first; that needs only this database, not the upstream.
    for row in await UpstreamNotice.select(UpstreamNotice.id).where(UpstreamNotice.adoption == "adopting"):
        await _follow(rt, row["id"])
    link = await _link(rt)
    cursor = link["cursor"]
    stored = 0
    now = rt.clock.now()
    try:
        for _ in range(MAX_PAGES):
            raw = await client.pull_notices(rt.settings.province_code, cursor, PAGE)
            page = msgspec.convert(raw, ExchangePage)
            for item in page.items:
                stored += await _store(rt, item, page.source.sender)
            for item in page.items:
                await _follow(rt, item.id)
            await UpstreamLink.update(
                {
                    UpstreamLink.cursor: page.cursor,
                    UpstreamLink.last_attempt_at: now,
                    UpstreamLink.last_success_at: now,
                    UpstreamLink.last_error: "",
                    UpstreamLink.failures: 0,
                }
            ).where(UpstreamLink.url == rt.settings.upstream_url)
            cursor = page.cursor
            if not page.more:
                break
    except (UpstreamUnavailable, UpstreamRefused, msgspec.ValidationError) as exc:
        log.warning("upstream pull from %s failed: %s", rt.settings.upstream_url, exc)
        await UpstreamLink.update(
            {
                UpstreamLink.last_attempt_at: now,
                UpstreamLink.last_error: str(exc)[:2000],
                UpstreamLink.failures: UpstreamLink.failures + 1,
            }
        ).where(UpstreamLink.url == rt.settings.upstream_url)
        raise
    finally:
        if own:
            await client.aclose()
    return stored


async def _store(rt: Runtime, item: ExchangeNotice, sender: str) -> int:
    """Insert the version, or bring a stored one up to the upstream's current state."""
    now = rt.clock.now()
    values = {
        "thread_id": item.thread_id,
        "version": item.version,
        "references_id": item.references_id,
        "msg_type": item.msg_type,
        "status": item.status,
        "category": item.category,
        "priority": item.priority,
        "texts": msgspec.to_builtins(item.texts),
        "attachments": msgspec.to_builtins(item.attachments),
        "target_areas": item.target_areas,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
        "published_at": item.published_at,
        "ended_at": item.ended_at,
        "cap_identifier": item.cap_identifier,
        "sender": sender[:255],
        "upstream_seq": item.seq,
        "updated_at": now,
    }
    async with rt.db.transaction():
        existing = (
            await UpstreamNotice.select(UpstreamNotice.upstream_seq)
            .where(UpstreamNotice.id == item.id)
            .first()
        )
        if existing is None:
            await UpstreamNotice.insert(UpstreamNotice(id=item.id, received_at=now, **values)).on_conflict(
                target=UpstreamNotice.id, action="DO NOTHING"
            )
            return 1
        if existing["upstream_seq"] <= item.seq:
            await UpstreamNotice.update({getattr(UpstreamNotice, k): v for k, v in values.items()}).where(
                UpstreamNotice.id == item.id
            )
    return 0


async def _follow(rt: Runtime, upstream_id: uuid.UUID) -> None:
    """Act on one stored version; safe to repeat (every step checks what is already done)."""
    row = await UpstreamNotice.select().where(UpstreamNotice.id == upstream_id).first()
    assert row is not None
    try:
        if row["status"] == "withdrawn" and row["local_notice_id"] is not None:
            await _withdraw_local(rt, row, "upstream withdrawn")
            return
        if row["adoption"] == "adopting":
            await _resume(rt, row)
            return
        if row["local_notice_id"] is not None or row["adoption"]:
            return
        previous = None
        if row["references_id"] is not None:
            previous = await UpstreamNotice.select().where(UpstreamNotice.id == row["references_id"]).first()
        if previous is not None and previous["local_notice_id"] is not None:
            if row["msg_type"] == "cancel":
                await _withdraw_local(rt, previous, f"upstream cancel {row['id']}")
                await _mark(row["id"], "followed", previous["local_notice_id"], None, rt.clock.now())
            elif row["status"] in ("published", "superseded"):
                await _follow_update(rt, row, previous)
            return
        auto = rt.settings.upstream_auto_publish_emergency and row["priority"] == "emergency"
        if (
            auto
            and row["status"] == "published"
            and row["msg_type"] != "cancel"
            and _current(row, rt.clock.now())
        ):
            await adopt_row(rt, link_actor(await _province(rt)), row, AdoptIn(), automatic=True)
    except DomainError as exc:
        # A local rule refused the step (e.g. the local notice was withdrawn meanwhile): keep the
        # upstream version for people to look at; the pull goes on.
        log.warning("upstream notice %s: local step refused: %s", upstream_id, exc)


def _texts(row: dict[str, Any]) -> dict[str, NoticeText]:
    return {lang: msgspec.convert(t, NoticeText) for lang, t in json_column(row["texts"]).items()}


def _current(row: dict[str, Any], now: datetime) -> bool:
    return row["valid_until"] is None or row["valid_until"] > now


async def _withdraw_local(rt: Runtime, row: dict[str, Any], reason: str) -> None:
    local = await _latest_local(row["local_notice_id"])
    if local is None or local["status"] not in ("published", "approved", "submitted"):
        return
    actor = link_actor(await _province(rt))
    if local["status"] == "submitted":
        # Not public yet: taken out of the approval queue, so nobody approves what the source ended.
        await flows.return_to_draft(rt, actor, local["id"], ActionIn(reason=reason[:500]))
        return
    await flows.withdraw(rt, actor, local["id"], ActionIn(reason=reason[:500]))


async def _latest_local(local_id: uuid.UUID) -> dict[str, Any] | None:
    """The newest local version in the thread of ``local_id`` (an update may have followed)."""
    first = await Notice.select(Notice.thread_id).where(Notice.id == local_id).first()
    if first is None:
        return None
    return await (
        Notice.select(Notice.id, Notice.status, Notice.version)
        .where(Notice.thread_id == first["thread_id"])
        .order_by(Notice.version, ascending=False)
        .first()
    )


async def _follow_update(rt: Runtime, row: dict[str, Any], previous: dict[str, Any]) -> None:
    local = await _latest_local(previous["local_notice_id"])
    if local is None or local["status"] not in ("published", *PENDING):
        return  # the local notice ended: an approver may adopt the update as a notice of its own
    if not await _claim(row["id"], rt.clock.now()):
        return
    if local["status"] in PENDING:
        await _revise_pending(rt, row, local)
        return
    actor = link_actor(await _province(rt))
    texts = _texts(row)
    update = await notices.new_version(
        rt,
        actor,
        local["id"],
        NewVersionIn(
            msg_type="update",
            reason=f"upstream update {row['id']}",
            category=await _category(row["category"]),
            priority=row["priority"],
            texts=texts,
            valid_until=row["valid_until"] if _current(row, rt.clock.now()) else None,
        ),
    )
    automatic = rt.settings.upstream_auto_publish_emergency and row["priority"] == "emergency"
    if automatic:
        await flows.emergency_publish(rt, actor, update.id, ActionIn(reason="upstream emergency update"))
    else:
        await flows.submit(rt, actor, update.id, ActionIn(reason="upstream update"))
    await _mark(row["id"], "auto" if automatic else "followed", update.id, UPSTREAM_ACTOR_ID, rt.clock.now())


async def _revise_pending(rt: Runtime, row: dict[str, Any], local: dict[str, Any]) -> None:
    """The local notice awaits approval: it takes the update's content and goes back for approval,
    so an approver never approves text the source has already replaced."""
    actor = link_actor(await _province(rt))
    reason = f"upstream update {row['id']}"
    if local["status"] != "draft":
        await flows.return_to_draft(rt, actor, local["id"], ActionIn(reason=reason))
    current = await Notice.select(Notice.row_version).where(Notice.id == local["id"]).first()
    assert current is not None
    texts = _texts(row)
    await notices.edit(
        rt,
        actor,
        local["id"],
        NoticePatch(
            row_version=current["row_version"],
            category=await _category(row["category"]),
            priority=row["priority"],
            texts=texts,
            valid_until=row["valid_until"] if _current(row, rt.clock.now()) else None,
        ),
    )
    await flows.submit(rt, actor, local["id"], ActionIn(reason=reason))
    await _mark(row["id"], "followed", local["id"], UPSTREAM_ACTOR_ID, rt.clock.now())


async def _claim(upstream_id: uuid.UUID, now: datetime) -> bool:
    """Take a version for adoption; the claim time tells a crashed adoption from a running one."""
    claimed = await (
        UpstreamNotice.update({UpstreamNotice.adoption: "adopting", UpstreamNotice.adopted_at: now})
        .where((UpstreamNotice.id == upstream_id) & (UpstreamNotice.adoption == ""))
        .returning(UpstreamNotice.id)
    )
    return bool(claimed)


async def _resume(rt: Runtime, row: dict[str, Any]) -> None:
    """Finish an adoption a crash left ``adopting`` once its claim is older than the lease.

    Without a local notice nothing was created: the version is released and followed afresh (an
    emergency is adopted again at once when auto-publish is on). With one, the lifecycle step that
    did not happen is taken by the link: an automatic adoption is published as the emergency it
    is; a person's adoption is submitted for approval (whether they also asked to publish was not
    kept, so an approver decides)."""
    now = rt.clock.now()
    if row["adopted_at"] is not None and now - row["adopted_at"] < ADOPT_LEASE:
        return
    if row["local_notice_id"] is None:
        await UpstreamNotice.update({UpstreamNotice.adoption: ""}).where(
            (UpstreamNotice.id == row["id"]) & (UpstreamNotice.adoption == "adopting")
        )
        log.warning("upstream notice %s: adoption interrupted before the local notice; released", row["id"])
        await _follow(rt, row["id"])
        return
    local = await _latest_local(row["local_notice_id"])
    if local is None:
        return
    actor = link_actor(await _province(rt))
    automatic = row["adopted_by"] == UPSTREAM_ACTOR_ID
    if local["status"] == "draft":
        step = flows.emergency_publish if automatic else flows.submit
        await step(rt, actor, local["id"], ActionIn(reason=f"upstream {row['id']}: adoption resumed"))
    await _mark(row["id"], "auto" if automatic else "adopted", row["local_notice_id"], row["adopted_by"], now)
    log.warning("upstream notice %s: interrupted adoption resumed", row["id"])


async def _mark(
    upstream_id: uuid.UUID, adoption: str, local_id: uuid.UUID, by: uuid.UUID | None, at: datetime
) -> None:
    await UpstreamNotice.update(
        {
            UpstreamNotice.adoption: adoption,
            UpstreamNotice.local_notice_id: local_id,
            UpstreamNotice.adopted_by: by,
            UpstreamNotice.adopted_at: at,
        }
    ).where(UpstreamNotice.id == upstream_id)


async def _category(code: str) -> str:
    active = await Category.exists().where((Category.code == code) & (Category.active == True))  # noqa: E712
    return code if active else FALLBACK_CATEGORY


async def _targets(rt: Runtime, wanted: list[str], province: dict[str, Any]) -> list[str]:
    """The upstream's targets that are areas of this province here; wider ones become the province."""
    rows = await Area.select(Area.code, Area.path).where(Area.code.is_in(wanted or ["-"]))
    inside = sorted(r["code"] for r in rows if within(r["path"], province["path"]))
    return inside or [province["code"]]


# --- adoption -------------------------------------------------------------------------------------------


async def adopt(rt: Runtime, actor: Actor, upstream_id: uuid.UUID, data: AdoptIn) -> NoticeOut:
    province = await _province(rt)
    grant = actor.require(Permission.NOTICE_APPROVE, [province["path"]])
    row = await UpstreamNotice.select().where(UpstreamNotice.id == upstream_id).first()
    if row is None:
        raise NotFound("upstream_notice", details={"id": str(upstream_id)})
    if row["status"] != "published" or not _current(row, rt.clock.now()):
        raise Conflict(
            "invalid_state",
            message_key="error.notice_state",
            state=row["status"],
            action="adopt",
            details={"status": row["status"], "action": "adopt"},
        )
    out = await adopt_row(rt, actor, row, data, automatic=False)
    async with rt.db.transaction():
        await audit.record(
            rt,
            actor,
            "upstream.adopt",
            target_type="upstream_notice",
            target_id=str(upstream_id),
            grant=grant,
            details={"local_notice": str(out.id), "published": data.publish, "cap": row["cap_identifier"]},
        )
    return out


async def adopt_row(
    rt: Runtime, actor: Actor, row: dict[str, Any], data: AdoptIn, *, automatic: bool
) -> NoticeOut:
    """Create the local notice for an upstream version (once), through the lifecycle."""
    if not await _claim(row["id"], rt.clock.now()):
        raise Conflict(
            "already_adopted",
            message_key="error.duplicate",
            what="notice",
            details={
                "adoption": row["adoption"] or "adopting",
                "local_notice_id": _str(row["local_notice_id"]),
            },
        )
    province = await _province(rt)
    try:
        targets = data.target_areas or await _targets(rt, json_column(row["target_areas"], []), province)
        texts = _texts(row)
        local = await notices.create(
            rt,
            actor,
            NoticeIn(
                category=await _category(row["category"]),
                priority=row["priority"],
                target_areas=targets,
                texts=texts,
                owner_area=province["code"],
                valid_from=row["valid_from"],
                valid_until=row["valid_until"] if _current(row, rt.clock.now()) else None,
                attachments=[],
            ),
        )
    except Exception:
        # Nothing was created: give the version back so it can be adopted again.
        await UpstreamNotice.update({UpstreamNotice.adoption: ""}).where(UpstreamNotice.id == row["id"])
        raise
    await _mark(row["id"], "adopting", local.id, actor.account_id, rt.clock.now())
    if automatic:
        local = await flows.emergency_publish(rt, actor, local.id, ActionIn(reason="upstream emergency"))
    else:
        local = await flows.submit(rt, actor, local.id, ActionIn(reason=f"adopted from upstream {row['id']}"))
        if data.publish:
            local = await flows.approve(rt, actor, local.id, ActionIn())
            local = await flows.publish(rt, actor, local.id, ActionIn())
    await _mark(row["id"], "auto" if automatic else "adopted", local.id, actor.account_id, rt.clock.now())
    return local


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- reading ---------------------------------------------------------------------------------------------


async def list_notices(rt: Runtime, actor: Actor, adoption: str | None, limit: int) -> UpstreamNoticeList:
    province = await _province(rt)
    actor.require(Permission.NOTICE_READ, [province["path"]])
    query = UpstreamNotice.select().order_by(UpstreamNotice.upstream_seq, ascending=False).limit(limit)
    if adoption is not None:
        query = query.where(UpstreamNotice.adoption == ("" if adoption == "none" else adoption))
    return UpstreamNoticeList(items=[_out(r) for r in await query])


def _out(row: dict[str, Any]) -> UpstreamNoticeOut:
    return UpstreamNoticeOut(
        id=row["id"],
        thread_id=row["thread_id"],
        version=row["version"],
        references_id=row["references_id"],
        msg_type=row["msg_type"],
        status=row["status"],
        category=row["category"],
        priority=row["priority"],
        texts={lang: NoticeText(**t) for lang, t in json_column(row["texts"]).items()},
        target_areas=list(json_column(row["target_areas"], [])),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        published_at=row["published_at"],
        ended_at=row["ended_at"],
        cap_identifier=row["cap_identifier"],
        sender=row["sender"],
        adoption=row["adoption"],
        local_notice_id=row["local_notice_id"],
        adopted_at=row["adopted_at"],
        received_at=row["received_at"],
    )
