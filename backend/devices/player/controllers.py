"""The e-board player: its page, script and service worker, the manifests it polls and its proof
of play. The page and the data need the board's credentials (Basic once, then the board cookie);
the script and the service worker hold nothing secret and are served to anyone."""

from __future__ import annotations

import uuid
from functools import cache
from pathlib import Path

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from backend.deps import RuntimeDep
from backend.devices.player import session
from backend.devices.player.schemas import BoardManifests
from backend.devices.player.services import board_manifests
from backend.devices.proof import services as proof
from backend.devices.proof.schemas import ProofBatchIn, ProofBatchOut
from backend.lib.http import errors

STATIC = Path(__file__).parent / "static"
NO_CACHE = {"Cache-Control": "no-cache"}


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


class BoardPlayerController(Controller):
    path = "/boards/{device_id:uuid}"
    tags = ["devices"]
    security = [{"device": []}]

    @get(
        "/player",
        operation_id="getBoardPlayer",
        summary="The e-board player page (HTML); signs the board in with its own credentials",
        media_type="text/html",
        responses=errors(401, 403),
    )
    async def player(self, rt: RuntimeDep, request: Request, device_id: FromPath[uuid.UUID]) -> Response[str]:
        _, fresh = await session.board(rt, request, device_id)
        response = Response(_static("player.html").replace("{{BOARD}}", str(device_id)), headers=NO_CACHE)
        if fresh:
            response.set_cookie(session.cookie(request, device_id, fresh))
        return response

    @get(
        "/manifest",
        operation_id="getBoardManifests",
        summary="The board's current signed playlist and emergencies (304 when unchanged)",
        responses=errors(401, 403),
    )
    async def manifest(
        self, rt: RuntimeDep, request: Request, device_id: FromPath[uuid.UUID]
    ) -> Response[BoardManifests]:
        device, _ = await session.board(rt, request, device_id)
        current = await board_manifests(rt, device)
        headers = {**NO_CACHE, "ETag": current.etag}
        if request.headers.get("if-none-match") == current.etag:
            return Response(content=None, status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(current, headers=headers)

    @post(
        "/proof",
        operation_id="reportBoardProofOfPlay",
        summary="The player's proof of play (idempotent by report_id)",
        responses=errors(400, 401, 403, 422),
        status_code=200,
        guards=[session.board_first],
    )
    async def proof(
        self, rt: RuntimeDep, request: Request, device_id: FromPath[uuid.UUID], data: JSONBody[ProofBatchIn]
    ) -> ProofBatchOut:
        device, _ = await session.board(rt, request, device_id)
        return await proof.record_proofs(rt, device.id, device.group_id, data.reports)

    @get(
        "/player.js",
        operation_id="getBoardPlayerScript",
        summary="The player's script",
        media_type="text/javascript",
        responses=errors(404),
        security=[{}],
    )
    async def script(self, device_id: FromPath[uuid.UUID]) -> Response[str]:
        return Response(_static("player.js"), headers=NO_CACHE)

    @get(
        "/sw.js",
        operation_id="getBoardServiceWorker",
        summary="The player's service worker (keeps page, manifests and images for offline play)",
        media_type="text/javascript",
        responses=errors(404),
        security=[{}],
    )
    async def service_worker(self, device_id: FromPath[uuid.UUID]) -> Response[str]:
        return Response(_static("sw.js"), headers=NO_CACHE)
