"""HTTP endpoints for staff commanding devices."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from backend.deps import ActorDep, RuntimeDep
from backend.devices.commands import services
from backend.devices.commands.schemas import CommandIn, CommandList, CommandOut
from backend.lib.http import errors


class DeviceCommandController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @post(
        "/{device_id:uuid}/commands",
        operation_id="commandDevice",
        summary="Send a device a command (play now, stop, volume, reboot, refresh manifest, relay start/stop)",
        responses=errors(400, 401, 403, 404, 422),
    )
    async def create(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID], data: JSONBody[CommandIn]
    ) -> CommandOut:
        return await services.create(rt, actor, device_id, data)

    @get(
        "/{device_id:uuid}/commands",
        operation_id="listDeviceCommands",
        summary="A device's commands, newest first, with their status",
        responses=errors(401, 403, 404),
    )
    async def list_commands(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]
    ) -> CommandList:
        return await services.list_for_device(rt, actor, device_id)

    @get(
        "/commands/{command_id:uuid}",
        operation_id="getDeviceCommand",
        summary="One command and where it is in its lifecycle",
        responses=errors(401, 403, 404),
    )
    async def get_command(
        self, rt: RuntimeDep, actor: ActorDep, command_id: FromPath[uuid.UUID]
    ) -> CommandOut:
        return await services.get(rt, actor, command_id)
