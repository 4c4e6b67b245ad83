"""HTTP endpoints for the device registry and device credentials (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from backend.core.accounts.permissions import Actor
from backend.deps import ActorDep, ClientDep, RuntimeDep
from backend.devices import credentials, edit, imports, provisioning, services
from backend.devices.schemas import (
    ClaimCode,
    ClaimIn,
    DeviceCredentials,
    DeviceImportResult,
    DeviceIn,
    DeviceKind,
    DeviceList,
    DeviceOut,
    DevicePatch,
    PresenceState,
    RevokeResult,
)
from backend.lib.errors import BadRequest
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

    @patch(
        "/{device_id:uuid}",
        operation_id="editDevice",
        summary="Change a device's name, area or group, location, capabilities, firmware or notes",
        responses=errors(400, 401, 403, 404, 409, 422),
    )
    async def edit_device(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID], data: JSONBody[DevicePatch]
    ) -> DeviceOut:
        return await edit.edit(rt, actor, device_id, data)

    @post(
        "/{device_id:uuid}/credentials",
        operation_id="issueDeviceCredentials",
        summary="Issue the device a new password (shown once); any previous password stops working",
        responses=errors(401, 403, 404, 409),
    )
    async def issue_credentials(
        self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]
    ) -> DeviceCredentials:
        return await credentials.issue_credentials(rt, actor, device_id)


class ProvisioningController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @post(
        "/{device_id:uuid}/claim-code",
        operation_id="issueDeviceClaimCode",
        summary="A one-time claim code for a pre-registered device (shown once; earlier codes stop working)",
        responses=errors(401, 403, 404, 409),
    )
    async def claim_code(self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]) -> ClaimCode:
        return await provisioning.issue_claim_code(rt, actor, device_id)

    @post(
        "/claim",
        operation_id="claimDevice",
        summary="A device trades its claim code and hardware id for its own credentials",
        responses=errors(400, 403, 409, 429),
        security=[{}],
    )
    async def claim(
        self, request: Request, rt: RuntimeDep, client: ClientDep, data: JSONBody[ClaimIn]
    ) -> DeviceCredentials:
        request.app.state.login_limiter.hit(f"claim:{client.addr}", rt.clock.now())
        actor = Actor(account_id=None, kind="device", client_addr=client.addr, request_id=client.request_id)
        return await provisioning.claim(rt, data, actor)

    @post(
        "/{device_id:uuid}/revoke",
        operation_id="revokeDeviceCredentials",
        summary="Revoke every credential of a device now; its broker session is dropped",
        responses=errors(401, 403, 404),
        status_code=200,
    )
    async def revoke(self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]) -> RevokeResult:
        count = await provisioning.revoke(rt, actor, device_id)
        return RevokeResult(
            device_id=device_id, revoked_credentials=count, status=(await services.load(device_id))["status"]
        )

    @post(
        "/{device_id:uuid}/retire",
        operation_id="retireDevice",
        summary="Take a device out of service: its credentials are revoked and no new ones can be issued",
        responses=errors(401, 403, 404),
        status_code=200,
    )
    async def retire(self, rt: RuntimeDep, actor: ActorDep, device_id: FromPath[uuid.UUID]) -> RevokeResult:
        count = await provisioning.revoke(rt, actor, device_id, retire=True)
        return RevokeResult(device_id=device_id, revoked_credentials=count, status="retired")

    @post(
        "/import",
        operation_id="importDevices",
        summary="Import devices from CSV, all or nothing, optionally with a claim code for each",
        responses=errors(400, 401, 403, 422),
        status_code=200,
    )
    async def import_csv(
        self, request: Request, rt: RuntimeDep, actor: ActorDep, claim_codes: FromQuery[bool] = False
    ) -> DeviceImportResult:
        """The body is UTF-8 CSV (``Content-Type: text/csv``) with a header row; columns: kind, area_code,
        name, hardware_id, group (name or id), latitude, longitude, codecs, screen_width, screen_height,
        firmware, notes."""
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "bad_encoding", details={"field": "body", "reason": "CSV must be UTF-8"}
            ) from exc
        return await imports.import_csv(rt, actor, text, claim_codes=claim_codes)
