"""The HTTP fallback for devices that cannot keep an MQTT connection: poll commands, answer them,
report state and events, read the desired state, fetch the signed manifests in force and
acknowledge them, report proof of play. Every call is activity, like a message on MQTT."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import JSONBody

from backend.deps import RuntimeDep
from backend.devices.commands import services as commands
from backend.devices.commands.schemas import CommandReply, PendingCommands
from backend.devices.device_auth import DeviceDep, basic_first, provide_device
from backend.devices.health import presence
from backend.devices.health.schemas import DeviceEvent, ReportedState
from backend.devices.health.state import desired_document
from backend.devices.in_force import manifests_in_force
from backend.devices.proof import services as proof_services
from backend.devices.proof.schemas import (
    AckBatchIn,
    AckBatchOut,
    DeviceManifests,
    ProofBatchIn,
    ProofBatchOut,
)
from backend.devices.tables import Device
from backend.devices.topics import Topics
from backend.lib.http import errors
from backend.lib.schema import Message


class DeviceApiController(Controller):
    path = "/api/v1/device"
    tags = ["device api"]
    dependencies = {"device": Provide(provide_device)}
    security = [{"device": []}]

    @get(
        "/commands",
        operation_id="pollDeviceCommands",
        summary="The calling device's pending commands (they count as sent from now)",
        responses=errors(401),
    )
    async def commands(self, rt: RuntimeDep, device: DeviceDep) -> PendingCommands:
        await presence.touch(rt, device.id)
        async with rt.db.transaction():
            items = await commands.pending_for_device(rt, device.id)
        return PendingCommands(items=items)

    @post(
        "/replies",
        operation_id="postDeviceReply",
        summary="Answer a command (delivered, succeeded or failed); repeated answers change nothing",
        responses=errors(400, 401),
        status_code=200,
    )
    async def reply(self, rt: RuntimeDep, device: DeviceDep, data: JSONBody[CommandReply]) -> Message:
        await presence.touch(rt, device.id)
        await commands.on_reply(rt, device.id, data)
        return Message()

    @post(
        "/state",
        operation_id="postDeviceState",
        summary="Report the device's state (older versions than the last stored are ignored)",
        responses=errors(400, 401),
        status_code=200,
    )
    async def state(self, rt: RuntimeDep, device: DeviceDep, data: JSONBody[ReportedState]) -> Message:
        await presence.on_reported(rt, device.id, data)
        return Message()

    @post(
        "/events",
        operation_id="postDeviceEvent",
        summary="Report an alarm condition starting or ending",
        responses=errors(400, 401),
        status_code=200,
    )
    async def event(self, rt: RuntimeDep, device: DeviceDep, data: JSONBody[DeviceEvent]) -> Message:
        await presence.on_event(rt, device.id, data.type, data.active, data.details)
        return Message()

    @get(
        "/desired",
        operation_id="getDeviceDesiredState",
        summary="The desired state, as published retained on the device's state/desired topic",
        responses=errors(401),
    )
    async def desired(self, rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
        await presence.touch(rt, device.id)
        row = await Device.select().where(Device.id == device.id).first()
        return msgspec.to_builtins(desired_document(row, Topics.for_settings(rt.settings)))

    @get(
        "/manifests",
        operation_id="getDeviceManifests",
        summary="The signed manifests in force for the device: its group's and the emergencies of its areas",
        responses=errors(401),
    )
    async def manifests(
        self, rt: RuntimeDep, request: Request, device: DeviceDep
    ) -> Response[DeviceManifests]:
        await presence.touch(rt, device.id)
        current = await manifests_in_force(rt, device)
        headers = {"Cache-Control": "no-cache", "ETag": current.etag}
        if request.headers.get("if-none-match") == current.etag:
            return Response(content=None, status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(
            DeviceManifests(group=current.group, emergencies=current.emergencies, etag=current.etag),
            headers=headers,
        )

    @post(
        "/acks",
        operation_id="postDeviceAcks",
        summary="Acknowledge manifests (accepted, or rejected with the reason); repeats are stored once",
        responses=errors(400, 401),
        status_code=200,
        guards=[basic_first],
    )
    async def acks(self, rt: RuntimeDep, device: DeviceDep, data: JSONBody[AckBatchIn]) -> AckBatchOut:
        await presence.touch(rt, device.id)
        return await proof_services.record_ack_batch(rt, device.id, data.acks)

    @post(
        "/proof",
        operation_id="reportProofOfPlay",
        summary="Proof of play (same reports as on MQTT; idempotent by report_id)",
        responses=errors(400, 401, 422),
        status_code=200,
        guards=[basic_first],
    )
    async def proof(self, rt: RuntimeDep, device: DeviceDep, data: JSONBody[ProofBatchIn]) -> ProofBatchOut:
        await presence.touch(rt, device.id)
        return await proof_services.record_proofs(rt, device.id, device.group_id, data.reports)
