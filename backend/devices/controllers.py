"""HTTP endpoints for the device registry and device credentials (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.deps import ActorDep, RuntimeDep
from backend.devices import services
from backend.devices.schemas import (
    DeviceCredentials,
    DeviceIn,
    DeviceKind,
    DeviceList,
    DeviceOut,
    PresenceState,
)
from backend.lib.http import errors


class DeviceController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @post(
        "",
        operation_id="registerDevice",
        summary="Register a loudspeaker cluster, e-board or receiver in an area (no credentials yet)",
        responses=errors(400, 401, 403, 409, 422),
    )
    async def register(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[DeviceIn]) -> DeviceOut:
        return await services.register(rt, actor, data)

    @get(
        "",
        operation_id="listDevices",
        summary="Devices in the areas the account may watch, filtered by area, kind, state or group",
        responses=errors(400, 401, 403, 404),
    )
    async def list_devices(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        area: FromQuery[str | None] = None,
        kind: FromQuery[DeviceKind | None] = None,
        presence: Annotated[PresenceState | None, QueryParameter(name="state")] = None,
        group_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> DeviceList:
        return await services.list_devices(
            rt, actor, area=area, kind=kind, state=presence, group_id=group_id, cursor=cursor, limit=limit
        )

    @get(
        "/{device_id:uuid}",
        operation_id="getDevice",
        summary="One device of the registry",
        responses=errors(401, 403, 404),
    )
    async def get_device(self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]) -> DeviceOut:
        return await services.get(rt, actor, device_id)

    @post(
        "/{device_id:uuid}/credentials",
        operation_id="issueDeviceCredentials",
        summary="Issue the device a new password (shown once); any previous password stops working",
        responses=errors(401, 403, 404, 409),
    )
    async def issue_credentials(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]
    ) -> DeviceCredentials:
        return await services.issue_credentials(rt, actor, device_id)
