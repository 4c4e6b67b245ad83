"""A staff account's notifications about devices: only its own, never another account's."""

from __future__ import annotations

from typing import Any

from backend.core.accounts.permissions import Actor
from backend.devices.health.schemas import StaffNotificationList, StaffNotificationOut
from backend.devices.tables import StaffNotification
from backend.lib.errors import NotFound, Unauthorized
from backend.runtime import Runtime


def _out(row: dict[str, Any]) -> StaffNotificationOut:
    return StaffNotificationOut(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        device_id=row["device_id"],
        alarm_id=row["alarm_id"],
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
