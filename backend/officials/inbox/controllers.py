"""HTTP endpoints of the staff inbox: an account lists its own entries and marks them read."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery

from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors
from backend.officials.inbox import services as inbox
from backend.officials.inbox.schemas import StaffNotificationList, StaffNotificationOut


class StaffNotificationController(Controller):
    path = "/api/v1/staff/notifications"
    tags = ["staff inbox"]

    @get(
        "",
        operation_id="listStaffNotifications",
        summary="The account's notifications (devices of its areas, notices its programme moved), newest first",
        responses=errors(401),
    )
    async def list_notifications(
        self, rt: RuntimeDep, actor: ActorDep, unread: FromQuery[bool] = False
    ) -> StaffNotificationList:
        return await inbox.list_notifications(rt, actor, unread_only=unread)

    @post(
        "/{notification_id:int}/read",
        operation_id="markStaffNotificationRead",
        summary="Mark a notification read",
        responses=errors(401, 404),
        status_code=200,
    )
    async def read(
        self, rt: RuntimeDep, actor: ActorDep, notification_id: FromPath[int]
    ) -> StaffNotificationOut:
        return await inbox.mark_read(rt, actor, notification_id)
