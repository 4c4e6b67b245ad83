"""HTTP endpoints for stations and their groups (staff)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.broadcast.stations import services
from backend.broadcast.stations.schemas import (
    GroupIn,
    GroupList,
    GroupOut,
    GroupPatch,
    StationIn,
    StationList,
    StationOut,
    StationPatch,
)
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class StationController(Controller):
    path = "/api/v1/broadcast"
    tags = ["broadcast"]

    @post(
        "/stations",
        operation_id="createStation",
        summary="Create a commune's broadcast station (with its default group and first week schedule)",
        responses=errors(400, 401, 403, 409, 422),
    )
    async def create_station(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[StationIn]) -> StationOut:
        return await services.create_station(rt, actor, data)

    @get(
        "/stations",
        operation_id="listStations",
        summary="Stations the account may see, optionally inside one area",
        responses=errors(400, 401, 403, 404),
    )
    async def list_stations(
        self, rt: RuntimeDep, actor: ActorDep, area: FromQuery[str | None] = None
    ) -> StationList:
        return await services.list_stations(rt, actor, area)

    @get(
        "/stations/{station_id:uuid}",
        operation_id="getStation",
        summary="A station and its local rules",
        responses=errors(401, 403, 404),
    )
    async def get_station(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> StationOut:
        return await services.get_station(rt, actor, station_id)

    @patch(
        "/stations/{station_id:uuid}",
        operation_id="editStation",
        summary="Change a station's name, setting (urban/rural) or rules",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def edit_station(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[StationPatch]
    ) -> StationOut:
        return await services.edit_station(rt, actor, station_id, data)

    @get(
        "/stations/{station_id:uuid}/groups",
        operation_id="listStationGroups",
        summary="A station's groups of clusters, the default group first",
        responses=errors(401, 403, 404),
    )
    async def list_groups(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> GroupList:
        return await services.list_groups(rt, actor, station_id)

    @post(
        "/stations/{station_id:uuid}/groups",
        operation_id="createStationGroup",
        summary="Add a group of clusters (e.g. one village) to a station",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def create_group(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[GroupIn]
    ) -> GroupOut:
        return await services.create_group(rt, actor, station_id, data)

    @patch(
        "/groups/{group_id:uuid}",
        operation_id="editStationGroup",
        summary="Change a group's name, areas, border flag or e-board settings",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def edit_group(
        self, rt: RuntimeDep, actor: ActorDep, group_id: FromPath[uuid.UUID], data: JSONBody[GroupPatch]
    ) -> GroupOut:
        return await services.edit_group(rt, actor, group_id, data)

    @delete(
        "/groups/{group_id:uuid}",
        operation_id="deleteStationGroup",
        summary="Remove a group (not the default one)",
        responses=errors(401, 403, 404, 409),
        status_code=204,
    )
    async def delete_group(self, rt: RuntimeDep, actor: ActorDep, group_id: FromPath[uuid.UUID]) -> None:
        await services.delete_group(rt, actor, group_id)
