"""The province's public keys (devices verify manifests with them) and a group's current manifests."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.params import FromPath

from backend.broadcast.manifests import signing
from backend.broadcast.manifests.schemas import ManifestList
from backend.broadcast.manifests.services import group_manifests
from backend.broadcast.stations.schemas import ProvinceKey
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class ProvinceKeyController(Controller):
    path = "/api/v1/keys"
    tags = ["broadcast"]
    security = [{}]

    @get(
        "/province",
        operation_id="listProvinceKeys",
        summary="The province's Ed25519 public keys (current first) that sign device manifests",
        responses=errors(400),
        cache=60,
    )
    async def province_keys(self, rt: RuntimeDep) -> list[ProvinceKey]:
        return [ProvinceKey(**k) for k in signing.public_keys(rt.province_keys)]


class GroupManifestController(Controller):
    path = "/api/v1/broadcast/groups"
    tags = ["broadcast"]

    @get(
        "/{group_id:uuid}/manifests",
        operation_id="listGroupManifests",
        summary="A group's current signed manifests (as devices receive them) and the emergencies in force there",
        responses=errors(401, 403, 404),
    )
    async def manifests(self, rt: RuntimeDep, actor: ActorDep, group_id: FromPath[uuid.UUID]) -> ManifestList:
        return await group_manifests(rt, actor, group_id)
