"""HTTP endpoints for a station's week schedule, its programme choices, recordings and conflicts."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from backend.broadcast.programme import services as programme
from backend.broadcast.programme.schemas import ItemIn, ItemList, ItemOut, OrderIn, RecordingOut
from backend.broadcast.schedules import services
from backend.broadcast.schedules.schemas import ConflictsOut, ScheduleIn, ScheduleOut, ScheduleVersionList
from backend.deps import ActorDep, RuntimeDep
from backend.lib.errors import DomainError
from backend.lib.http import errors

MAX_UPLOAD_BYTES = 60 * 1024 * 1024


class UploadTooLarge(DomainError):
    status_code = 413
    default_code = "media_too_large"
    default_key = "error.media_too_large"


class ScheduleController(Controller):
    path = "/api/v1/broadcast/stations/{station_id:uuid}"
    tags = ["broadcast"]

    @get(
        "/schedule",
        operation_id="getStationSchedule",
        summary="The week schedule in force",
        responses=errors(401, 403, 404),
    )
    async def get_schedule(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> ScheduleOut:
        return await services.get_schedule(rt, actor, station_id)

    @put(
        "/schedule",
        operation_id="saveStationSchedule",
        summary="Save a new version of the week schedule (checked against the station's rules)",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def save_schedule(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[ScheduleIn]
    ) -> ScheduleOut:
        return await services.save_schedule(rt, actor, station_id, data)

    @get(
        "/schedule/versions",
        operation_id="listStationScheduleVersions",
        summary="Earlier versions of the week schedule, newest first",
        responses=errors(401, 403, 404),
    )
    async def versions(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> ScheduleVersionList:
        return await services.list_versions(rt, actor, station_id)

    @get(
        "/conflicts",
        operation_id="getStationConflicts",
        summary="Overlaps with neighbours' border clusters, over-long sessions, moved and unplaced items",
        responses=errors(401, 403, 404),
    )
    async def conflicts(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> ConflictsOut:
        return await services.conflicts(rt, actor, station_id)

    @get(
        "/programme",
        operation_id="listProgrammeItems",
        summary="The commune's programme choices",
        responses=errors(401, 403, 404),
    )
    async def items(self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]) -> ItemList:
        return await programme.list_items(rt, actor, station_id)

    @post(
        "/programme",
        operation_id="addProgrammeItem",
        summary="Choose a notice, a recording or an answer for the station's programmes",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def add_item(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[ItemIn]
    ) -> ItemOut:
        return await programme.add_item(rt, actor, station_id, data)

    @delete(
        "/programme/{item_id:uuid}",
        operation_id="removeProgrammeItem",
        summary="Remove a programme choice",
        responses=errors(401, 403, 404),
        status_code=204,
    )
    async def remove_item(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], item_id: FromPath[uuid.UUID]
    ) -> None:
        await programme.remove_item(rt, actor, station_id, item_id)

    @put(
        "/programme/order",
        operation_id="orderPriorityNotices",
        summary="The commune's order of priority notices",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def order(
        self, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID], data: JSONBody[OrderIn]
    ) -> ItemList:
        return await programme.set_order(rt, actor, station_id, data)

    @post(
        "/recordings",
        operation_id="uploadRecording",
        summary="Upload an official's recording (the raw audio file as the body; judged by decoding it)",
        responses=errors(401, 403, 404, 413, 422),
    )
    async def upload(
        self, request: Request, rt: RuntimeDep, actor: ActorDep, station_id: FromPath[uuid.UUID]
    ) -> RecordingOut:
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_UPLOAD_BYTES:
            raise UploadTooLarge(details={"max_bytes": MAX_UPLOAD_BYTES})
        data = await request.body()
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadTooLarge(details={"max_bytes": MAX_UPLOAD_BYTES})
        return await programme.upload_recording(rt, actor, station_id, data)
