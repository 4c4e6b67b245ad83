"""Proof of play over HTTP for devices, and the staff views of coverage and emergency acks."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from backend.deps import ActorDep, RuntimeDep
from backend.devices.proof import services
from backend.devices.proof.auth import basic_first, device_from_basic
from backend.devices.proof.schemas import EmergencyAcks, NoticeCoverage, ProofBatchIn, ProofBatchOut
from backend.lib.http import errors


class DeviceProofController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]
    security = [{"device": []}]

    @post(
        "/{device_id:uuid}/proof",
        operation_id="reportProofOfPlay",
        summary="A device's proof of play over HTTP (same reports as MQTT; idempotent by report_id)",
        responses=errors(400, 401, 403, 422),
        status_code=200,
        guards=[basic_first],
    )
    async def proof(
        self, rt: RuntimeDep, request: Request, device_id: FromPath[uuid.UUID], data: JSONBody[ProofBatchIn]
    ) -> ProofBatchOut:
        device = await device_from_basic(request, device_id)
        return await services.record_proofs(rt, device.id, device.group_id, data.reports)


class NoticeDeviceController(Controller):
    path = "/api/v1/notices"
    tags = ["devices"]

    @get(
        "/{notice_id:uuid}/device-coverage",
        operation_id="getNoticeDeviceCoverage",
        summary="Targeted loudspeaker clusters and e-boards of a notice versus those that reported playing it",
        responses=errors(401, 403, 404),
    )
    async def coverage(
        self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]
    ) -> NoticeCoverage:
        return await services.notice_coverage(rt, actor, notice_id)

    @get(
        "/{notice_id:uuid}/emergency-acks",
        operation_id="getEmergencyAcks",
        summary="Which targeted devices have and have not acknowledged the notice's emergency manifest",
        responses=errors(401, 403, 404),
    )
    async def acks(self, rt: RuntimeDep, actor: ActorDep, notice_id: FromPath[uuid.UUID]) -> EmergencyAcks:
        return await services.emergency_acks(rt, actor, notice_id)
