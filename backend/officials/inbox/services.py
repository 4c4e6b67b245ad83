"""A staff account's inbox: notifications about devices and about the programme of its communes.
An account sees only its own entries, never another account's.

Every producer (device alarms, programme compilation) writes through ``deliver``: an entry's
``dedupe_key`` names the event and the account, so a retried job or a recompilation that finds the
same event again adds nothing. Entries are rendered for their reader when written — in the
language of the account (``Recipient.language``; Vietnamese when it has none Kẻng speaks) — so the
inbox and the push that repeats it say the same thing, and reading costs no catalogue lookups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.tables import Account, RoleGrant
from backend.core.areas.tables import Area
from backend.core.outbox import services as outbox
from backend.lib.errors import NotFound, Unauthorized
from backend.lib.i18n import pick_language
from backend.officials.inbox.schemas import StaffNotificationList, StaffNotificationOut
from backend.officials.inbox.tables import StaffNotification
from backend.runtime import Runtime

COMMUNE_ROLES = (Role.COMMUNE_OFFICIAL.value, Role.COMMUNE_LEADER.value)
CHANNEL = "staffinbox"  # the outbox channel that writes and pushes inbox entries (inbox/channel.py)


@dataclass(frozen=True)
class Recipient:
    """A staff account to tell, and the language its entries are written in."""

    account_id: uuid.UUID
    language: str


@dataclass(frozen=True)
class Note:
    """One entry for one account."""

    account_id: uuid.UUID
    kind: str
    dedupe_key: str
    title: str
    body: str
    alarm_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    notice_id: uuid.UUID | None = None
    station_id: uuid.UUID | None = None
    session_at: datetime | None = None


async def officials_over(area_path: str, roles: tuple[str, ...] = COMMUNE_ROLES) -> list[Recipient]:
    """Accounts holding one of ``roles`` on ``area_path`` or an area above it: the commune's own
    officials and leaders, not those of a neighbouring commune; in account order."""
    grants = await RoleGrant.select(RoleGrant.account, RoleGrant.area).where(
        RoleGrant.role.is_in(list(roles))
    )
    if not grants:
        return []
    paths = {
        a["code"]: a["path"]
        for a in await Area.select(Area.code, Area.path).where(
            Area.code.is_in(sorted({g["area"] for g in grants}))
        )
    }
    accounts = sorted({g["account"] for g in grants if area_path.startswith(paths.get(g["area"], "\x00"))})
    if not accounts:
        return []
    languages = {
        a["id"]: a["language"]
        for a in await Account.select(Account.id, Account.language).where(Account.id.is_in(accounts))
    }
    # "en-GB" reads English; a language the catalogue lacks reads Vietnamese.
    return [Recipient(a, pick_language(languages.get(a))) for a in accounts]


async def deliver(rt: Runtime, notes: list[Note]) -> list[tuple[int, uuid.UUID]]:
    """Add the entries not already there; return (id, account) of the new ones. Call inside the
    transaction of what caused them."""
    fresh: list[tuple[int, uuid.UUID]] = []
    now = rt.clock.now()
    for note in notes:
        if await StaffNotification.exists().where(StaffNotification.dedupe_key == note.dedupe_key):
            continue
        rows = await (
            StaffNotification.insert(
                StaffNotification(
                    account_id=note.account_id,
                    kind=note.kind,
                    alarm_id=note.alarm_id,
                    device_id=note.device_id,
                    notice_id=note.notice_id,
                    station_id=note.station_id,
                    session_at=note.session_at,
                    dedupe_key=note.dedupe_key,
                    title=note.title,
                    body=note.body,
                    created_at=now,
                )
            )
            .on_conflict(target=StaffNotification.dedupe_key, action="DO NOTHING")
            .returning(StaffNotification.id)
        )
        if rows:  # empty when a concurrent job wrote the same entry first
            fresh.append((rows[0]["id"], note.account_id))
    return fresh


def _out(row: dict[str, Any]) -> StaffNotificationOut:
    return StaffNotificationOut(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        device_id=row["device_id"],
        alarm_id=row["alarm_id"],
        notice_id=row["notice_id"],
        station_id=row["station_id"],
        session_at=row["session_at"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


async def list_notifications(
    rt: Runtime, actor: Actor, *, unread_only: bool = False
) -> StaffNotificationList:
    if actor.account_id is None:
        raise Unauthorized()
    query = StaffNotification.select().where(StaffNotification.account_id == actor.account_id)
    if unread_only:
        query = query.where(StaffNotification.read_at.is_null())
    rows = await query.order_by(StaffNotification.id, ascending=False).limit(200)
    return StaffNotificationList(items=[_out(r) for r in rows])


async def mark_read(rt: Runtime, actor: Actor, notification_id: int) -> StaffNotificationOut:
    where = (StaffNotification.id == notification_id) & (StaffNotification.account_id == actor.account_id)
    row = await StaffNotification.select().where(where).first()
    if row is None:
        raise NotFound("notification")
    if row["read_at"] is None:
        await StaffNotification.update({StaffNotification.read_at: rt.clock.now()}).where(where)
    return _out(await StaffNotification.select().where(where).first())


async def push_later(rt: Runtime, fresh: list[tuple[int, uuid.UUID]], aggregate_id: str) -> None:
    """Have the ``staffinbox`` channel push entries just written to their accounts' phones. Call in
    the transaction that wrote them, so a rollback pushes nothing."""
    if fresh:
        await outbox.enqueue(
            rt,
            channel=CHANNEL,
            event="inbox",
            aggregate_id=aggregate_id,
            payload={"ids": [notification_id for notification_id, _ in fresh]},
        )
