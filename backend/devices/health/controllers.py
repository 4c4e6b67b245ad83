"""HTTP endpoints for device health: state and history, desired state, alarms, the dashboard and
map."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.deps import ActorDep, RuntimeDep
from backend.devices.health import alarms, dashboard, state
from backend.devices.health.schemas import (
    AlarmList,
    AlarmOut,
    Dashboard,
    DesiredIn,
    DeviceStateOut,
    StateHistory,
)
from backend.lib.http import errors


class DeviceHealthController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @get(
        "/{device_id:uuid}/state",
        operation_id="getDeviceState",
        summary="Presence, desired and reported state of a device, with what differs",
        responses=errors(401, 403, 404),
    )
    async def get_state(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]
    ) -> DeviceStateOut:
        return await state.get_state(rt, actor, device_id)

    @put(
        "/{device_id:uuid}/desired",
        operation_id="setDeviceDesiredState",
        summary="Set the desired volume or firmware; published retained to the device",
        responses=errors(400, 401, 403, 404),
    )
    async def set_desired(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID], data: JSONBody[DesiredIn]
    ) -> DeviceStateOut:
        return await state.set_desired(rt, actor, device_id, data)

    @get(
        "/{device_id:uuid}/history",
        operation_id="getDeviceStateHistory",
        summary="A device's changes of state (online, offline, playing, error), newest first",
        responses=errors(401, 403, 404),
    )
    async def history(self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]) -> StateHistory:
        return await state.history(rt, actor, device_id)

    @get(
        "/alarms",
        operation_id="listDeviceAlarms",
        summary="Device alarms in the account's areas (open ones unless open=false)",
        responses=errors(400, 401, 403),
    )
    async def list_alarms(
        self,
        rt: RuntimeDep,
        actor: ActorDep,
        device_id: FromQuery[uuid.UUID | None] = None,
        open: FromQuery[bool] = True,
    ) -> AlarmList:
        return await alarms.list_alarms(rt, actor, device_id=device_id, open_only=open)

    @post(
        "/alarms/{alarm_id:uuid}/acknowledge",
        operation_id="acknowledgeDeviceAlarm",
        summary="Acknowledge an alarm; a cleared alarm acknowledged is closed",
        responses=errors(401, 403, 404),
        status_code=200,
    )
    async def acknowledge(self, rt: RuntimeDep, actor: ActorDep, alarm_id: FromPath[uuid.UUID]) -> AlarmOut:
        return await alarms.acknowledge(rt, actor, alarm_id)

    @get(
        "/dashboard",
        operation_id="getDevicesDashboard",
        summary="Devices by state, kind and commune, and open alarms by severity",
        responses=errors(401, 403, 404),
    )
    async def dashboard(
        self, rt: RuntimeDep, actor: ActorDep, area: FromQuery[str | None] = None
    ) -> Dashboard:
        return await dashboard.dashboard(rt, actor, area)

    @get(
        "/map",
        operation_id="getDevicesMap",
        summary="Devices with a location as a GeoJSON FeatureCollection (state and worst open alarm)",
        responses=errors(401, 403, 404),
        media_type="application/geo+json",
    )
    async def map(
        self, rt: RuntimeDep, actor: ActorDep, area: FromQuery[str | None] = None
    ) -> Response[dict[str, Any]]:
        return Response(await dashboard.geojson(rt, actor, area), media_type="application/geo+json")
