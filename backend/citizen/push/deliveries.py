"""Per-device delivery rows: plan once, claim page by page, record every outcome.

Statuses: ``pending`` (planned) → ``sending`` (claimed by a fan-out, with ``claimed_at``) →
``sent`` | ``retry`` (429/5xx/network; tried again later) | ``failed`` (permanent) | ``pruned``
(the push service said the device is gone; the registration is pruned too) | ``skipped`` (not
sent: validity over, notice withdrawn or superseded, device unregistered). Claiming is one
conditional UPDATE, so two workers never send the same row; a ``sending`` row older than the
lease belongs to a fan-out that died and is claimed again."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backend.adapters.push import SendResult
from backend.citizen.subscriptions.services import subscribers
from backend.runtime import Runtime

CHUNK = 500
SENDING_LEASE = timedelta(seconds=120)
OPEN_STATES = ("pending", "sending", "retry")
STATUS_FOR = {"sent": "sent", "gone": "pruned", "retry": "retry", "failed": "failed", "skipped": "skipped"}


@dataclass(frozen=True)
class Row:
    id: int
    registration: str
    channel: str
    endpoint: str
    p256dh: str
    auth: str
    language: str
    active: bool


def _marks(n: int) -> str:
    return ", ".join("{}" for _ in range(n))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def planned(rt: Runtime, notice_id: uuid.UUID, event: str) -> bool:
    found = await rt.db.fetchval(
        'SELECT 1 AS x FROM "push_delivery" WHERE "notice" = {} AND "event" = {} LIMIT 1', notice_id, event
    )
    return found is not None


async def plan_published(
    rt: Runtime, notice_id: uuid.UUID, target_paths: list[str], category: str, priority: str
) -> None:
    """One pending row per active registration of every subscriber, in one transaction."""
    if await planned(rt, notice_id, "published"):
        return
    accounts = await subscribers(rt, target_paths, category, priority)
    now = rt.clock.now()
    async with rt.db.transaction():
        for part in chunks(accounts):
            await rt.db.execute(
                'INSERT INTO "push_delivery" ("notice", "event", "registration", "channel", "status", '
                '"attempts", "error", "created_at") '
                "SELECT {}, 'published', r.\"id\", r.\"kind\", 'pending', 0, '', {} "
                f'FROM "push_registration" r WHERE r."account" IN ({_marks(len(part))}) '
                'AND r."pruned_at" IS NULL AND (r."expires_at" IS NULL OR r."expires_at" > {}) '
                'ON CONFLICT ("notice", "event", "registration") DO NOTHING',
                notice_id,
                now,
                *part,
                now,
            )


async def plan_withdrawn(rt: Runtime, notice_id: uuid.UUID) -> None:
    """Tell the devices that got (or may have got) the notice; stop sending it to the others."""
    if await planned(rt, notice_id, "withdrawn"):
        return
    now = rt.clock.now()
    async with rt.db.transaction():
        await skip_open(rt, notice_id, "published", "withdrawn")
        await rt.db.execute(
            'INSERT INTO "push_delivery" ("notice", "event", "registration", "channel", "status", '
            '"attempts", "error", "created_at") '
            "SELECT \"notice\", 'withdrawn', \"registration\", \"channel\", 'pending', 0, '', {} "
            'FROM "push_delivery" WHERE "notice" = {} AND "event" = \'published\' '
            "AND \"status\" IN ('sent', 'sending') "
            'ON CONFLICT ("notice", "event", "registration") DO NOTHING',
            now,
            notice_id,
        )


async def skip_open(rt: Runtime, notice_id: uuid.UUID, event: str, reason: str) -> None:
    """Rows not yet sent will not be: the notice ended, was withdrawn or superseded."""
    await rt.db.execute(
        'UPDATE "push_delivery" SET "status" = \'skipped\', "error" = {}, "done_at" = {} '
        'WHERE "notice" = {} AND "event" = {} AND "status" IN (\'pending\', \'retry\')',
        reason[:255],
        rt.clock.now(),
        notice_id,
        event,
    )


async def claim(
    rt: Runtime, notice_id: uuid.UUID, event: str, after_id: int, limit: int
) -> tuple[list[Row], int]:
    """Claim the next page after ``after_id``; returns (claimed rows, last id looked at)."""
    now = rt.clock.now()
    stale = now - SENDING_LEASE
    candidates = await rt.db.fetch(
        'SELECT d."id", d."registration", d."channel", r."endpoint", r."p256dh", r."auth", r."language", '
        'r."pruned_at" FROM "push_delivery" d JOIN "push_registration" r ON r."id" = d."registration" '
        'WHERE d."notice" = {} AND d."event" = {} AND d."id" > {} '
        "AND (d.\"status\" IN ('pending', 'retry') OR (d.\"status\" = 'sending' AND d.\"claimed_at\" < {})) "
        'ORDER BY d."id" LIMIT {}',
        notice_id,
        event,
        after_id,
        stale,
        limit,
    )
    if not candidates:
        return [], after_id
    ids = [int(c["id"]) for c in candidates]
    async with rt.db.transaction():
        taken = await rt.db.fetch(
            'UPDATE "push_delivery" SET "status" = \'sending\', "claimed_at" = {}, '
            '"attempts" = "attempts" + 1 '
            f'WHERE "id" IN ({_marks(len(ids))}) '
            "AND (\"status\" IN ('pending', 'retry') OR (\"status\" = 'sending' AND \"claimed_at\" < {})) "
            'RETURNING "id"',
            now,
            *ids,
            stale,
        )
    mine = {int(t["id"]) for t in taken}
    rows = [
        Row(
            id=int(c["id"]),
            registration=str(c["registration"]),
            channel=c["channel"],
            endpoint=c["endpoint"],
            p256dh=c["p256dh"],
            auth=c["auth"],
            language=c["language"],
            active=c["pruned_at"] is None,
        )
        for c in candidates
        if int(c["id"]) in mine
    ]
    return rows, ids[-1]


async def record(
    rt: Runtime,
    rows: Sequence[Row],
    results: dict[int, SendResult],
    started: set[int],
    *,
    final: bool,
) -> None:
    """Write each outcome; rows never started go back to pending, in-flight ones stay claimed."""
    now = rt.clock.now()
    groups: dict[tuple[str, int | None, str], list[int]] = {}
    gone: dict[str, str] = {}
    unstarted: list[int] = []
    for row in rows:
        result = results.get(row.id)
        if result is None:
            if row.id not in started:
                unstarted.append(row.id)
            continue
        status = STATUS_FOR[result.outcome]
        error = result.error
        if status == "retry" and final:
            status, error = "failed", f"gave up after repeated retries: {error}"
        groups.setdefault((status, result.status, error[:255]), []).append(row.id)
        if status == "pruned":
            gone[row.registration] = f"gone: HTTP {result.status}" if result.status else "gone"
    async with rt.db.transaction():
        for (status, http_status, error), ids in groups.items():
            for part in chunks(ids):
                await rt.db.execute(
                    'UPDATE "push_delivery" SET "status" = {}, "http_status" = {}, "error" = {}, "done_at" = {} '
                    f'WHERE "id" IN ({_marks(len(part))}) AND "status" = \'sending\'',
                    status,
                    http_status,
                    error,
                    now if status != "retry" else None,
                    *part,
                )
        for part in chunks(unstarted):
            await rt.db.execute(
                'UPDATE "push_delivery" SET "status" = \'pending\', "claimed_at" = NULL '
                f'WHERE "id" IN ({_marks(len(part))}) AND "status" = \'sending\'',
                *part,
            )
        for reg, reason in gone.items():
            await rt.db.execute(
                'UPDATE "push_registration" SET "pruned_at" = {}, "pruned_reason" = {} '
                'WHERE "id" = {} AND "pruned_at" IS NULL',
                now,
                reason,
                uuid.UUID(reg),
            )


async def open_count(rt: Runtime, notice_id: uuid.UUID, event: str) -> int:
    value = await rt.db.fetchval(
        'SELECT COUNT(*) AS n FROM "push_delivery" WHERE "notice" = {} AND "event" = {} '
        "AND \"status\" IN ('pending', 'sending', 'retry')",
        notice_id,
        event,
    )
    return int(value or 0)
