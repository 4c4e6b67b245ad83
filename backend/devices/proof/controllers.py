"""The staff views of a notice's device coverage and of its emergency acknowledgements."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.params import FromPath

from backend.deps import ActorDep, RuntimeDep
from backend.devices.proof import services
from backend.devices.proof.schemas import EmergencyAcks, NoticeCoverage
from backend.lib.http import errors


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
