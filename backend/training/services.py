"""The training library on the staff side: topics, materials, versions, publishing and withdrawing.

Files are not uploaded here: staff upload them to the sync blob store (resumable, verified against
their sha256) and a material names its file by hash. This module checks the stored file — it exists
and is complete, it fits the size limit, and its *content* is of the material's kind — before any row
is written, so a refused request changes nothing.

Officials see a material on their phones from its publication on (the ``training_material`` synced
table; see ``synced.py``): every step that changes what phones show records a change for the
material's area in the same transaction, and every step is audited."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Permission, within
from backend.core.areas import services as areas
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from backend.runtime import Runtime
from backend.sync import get_blob
from backend.training import files
from backend.training.files import Kind
from backend.training.schemas import (
    LEVEL_NAMES,
    MaterialIn,
    MaterialItem,
    MaterialList,
    MaterialOut,
    TopicIn,
    TopicList,
    TopicOut,
    VersionIn,
    VersionOut,
)
from backend.training.tables import TrainingMaterial, TrainingTopic, TrainingVersion

TABLE = "training_material"
# Staff who publish or follow the library read it here, drafts included; officials who study it get
# the published materials on their phones through sync.
READERS = (Permission.TRAINING_MANAGE, Permission.TRAINING_REPORT)
TOPIC_READERS = (*READERS, Permission.TRAINING_STUDY)


class FileMissing(DomainError):
    status_code = 422
    default_code = "file_missing"
    default_key = "error.training_file_missing"


def blob_url(sha256: str) -> str:
    return f"/api/v1/sync/blobs/{sha256}/content"


def invalid_state(state: str, action: str) -> Conflict:
    return Conflict(
        "invalid_state",
        message_key="error.training_state",
        state=state,
        action=action,
        details={"status": state, "action": action},
    )


# --- topics -----------------------------------------------------------------------------------


def _require_reader(actor: Actor, permissions: tuple[Permission, ...] = READERS) -> None:
    if not any(actor.grants_with(p) for p in permissions):
        raise Forbidden(details={"permission": " | ".join(p.value for p in permissions)})


async def list_topics(rt: Runtime, actor: Actor) -> TopicList:
    _require_reader(actor, TOPIC_READERS)
    rows = await TrainingTopic.select().order_by(TrainingTopic.code)
    return TopicList(
        items=[TopicOut(code=r["code"], name=r["name"], description=r["description"]) for r in rows]
    )


async def create_topic(rt: Runtime, actor: Actor, data: TopicIn) -> TopicOut:
    grant = actor.require(Permission.TRAINING_MANAGE)
    async with rt.db.transaction():
        if await TrainingTopic.exists().where(TrainingTopic.code == data.code):
            raise Conflict(
                "duplicate", message_key="error.duplicate", what="training_topic", details={"code": data.code}
            )
        await TrainingTopic.insert(
            TrainingTopic(
                code=data.code,
                name=data.name.strip(),
                description=data.description.strip(),
                created_by=actor.account_id,
                created_at=rt.clock.now(),
            )
        )
        await audit.record(
            rt, actor, "training.topic_create", target_type="training_topic", target_id=data.code, grant=grant
        )
    return TopicOut(code=data.code, name=data.name.strip(), description=data.description.strip())


# --- files --------------------------------------------------------------------------------------


async def checked_file(rt: Runtime, sha256: str, kind: Kind) -> tuple[int, str]:
    """(size, media type) of a stored, verified file fit for ``kind``; raises before any write."""
    info = await get_blob(rt, sha256)
    if info is None:
        raise FileMissing(details={"field": "sha256", "sha256": sha256, "upload": "/api/v1/sync/blobs"})
    if not info.complete:
        raise Conflict(
            "blob_pending",
            message_key="error.blob_pending",
            details={"field": "sha256", "offset": info.received, "size": info.size},
        )
    mime = await asyncio.to_thread(files.check, info.path, info.size, kind, rt.settings.training_max_bytes)
    return info.size, mime


# --- materials ----------------------------------------------------------------------------------


async def _material(material_id: uuid.UUID, lock: bool = False, rt: Runtime | None = None) -> dict[str, Any]:
    query = TrainingMaterial.select().where(TrainingMaterial.id == material_id)
    if lock and rt is not None and rt.db.dialect == "postgres":
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise NotFound("training_material", details={"id": str(material_id)})
    return row


def _sees(actor: Actor, path: str) -> bool:
    """Staff see the materials of their areas and those aimed above them (a province-wide one)."""
    return any(
        within(path, g.area_path) or within(g.area_path, path) for p in READERS for g in actor.grants_with(p)
    )


def _version_out(row: dict[str, Any]) -> VersionOut:
    return VersionOut(
        id=row["id"],
        number=row["number"],
        status=row["status"],
        title=row["title"],
        description=row["description"],
        kind=row["kind"],
        sha256=row["sha256"],
        size=row["size"],
        mime=row["mime"],
        url=blob_url(row["sha256"]),
        retrain=row["retrain"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        superseded_at=row["superseded_at"],
    )


async def material_out(row: dict[str, Any]) -> MaterialOut:
    versions = await (
        TrainingVersion.select()
        .where(TrainingVersion.material == row["id"])
        .order_by(TrainingVersion.number, ascending=False)
    )
    topic = await TrainingTopic.select(TrainingTopic.name).where(TrainingTopic.code == row["topic"]).first()
    out = [_version_out(v) for v in versions]
    return MaterialOut(
        id=row["id"],
        topic=row["topic"],
        topic_name=topic["name"] if topic else row["topic"],
        level=row["level"],
        level_name=LEVEL_NAMES[row["level"]],
        required=row["required"],
        area_code=row["area_code"],
        area_path=row["area_path"],
        status=row["status"],
        completion_from=row["completion_from"],
        current=next((v for v in out if v.status == "current"), None),
        draft=next((v for v in out if v.status == "draft"), None),
        versions=out,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _audit(
    rt: Runtime, actor: Actor, action: str, material_id: uuid.UUID, grant: Grant | None, **details: Any
) -> None:
    await audit.record(
        rt,
        actor,
        f"training.{action}",
        target_type=TABLE,
        target_id=str(material_id),
        grant=grant,
        details={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in details.items()},
    )


async def _phones_see_change(rt: Runtime, actor: Actor, row: dict[str, Any]) -> None:
    await record_change(
        rt,
        table=TABLE,
        row_id=str(row["id"]),
        op="upsert",
        area_paths=[row["area_path"]],
        actor_id=actor.account_id,
    )


async def create_material(rt: Runtime, actor: Actor, data: MaterialIn) -> MaterialOut:
    actor.require(Permission.TRAINING_MANAGE)
    if not await TrainingTopic.exists().where(TrainingTopic.code == data.topic):
        raise ValidationFailed(
            [
                {
                    "field": "topic",
                    "reason": f"unknown topic {data.topic!r}; topics are listed at /api/v1/training/topics",
                }
            ]
        )
    area_code = data.area or rt.settings.province_code
    path = (await areas.paths_for(rt, [area_code], field="area"))[area_code]
    grant = actor.require(Permission.TRAINING_MANAGE, [path])
    size, mime = await checked_file(rt, data.sha256, data.kind)
    material_id, version_id = uuid.uuid4(), uuid.uuid4()
    now = rt.clock.now()
    async with rt.db.transaction():
        await TrainingMaterial.insert(
            TrainingMaterial(
                id=material_id,
                topic=data.topic,
                level=data.level,
                required=data.required,
                area_code=area_code,
                area_path=path,
                status="draft",
                current_version=None,
                completion_from=1,
                created_by=actor.account_id,
                created_at=now,
                updated_at=now,
            )
        )
        await TrainingVersion.insert(
            TrainingVersion(
                id=version_id,
                material=material_id,
                number=1,
                status="draft",
                title=data.title.strip(),
                description=data.description.strip(),
                kind=data.kind,
                sha256=data.sha256,
                size=size,
                mime=mime,
                retrain=False,
                created_by=actor.account_id,
                created_at=now,
            )
        )
        await _audit(
            rt, actor, "create", material_id, grant, version=version_id, sha256=data.sha256, area=area_code
        )
    return await material_out(await _material(material_id))


async def new_version(rt: Runtime, actor: Actor, material_id: uuid.UUID, data: VersionIn) -> MaterialOut:
    row = await _material(material_id)
    grant = actor.require(Permission.TRAINING_MANAGE, [row["area_path"]])
    latest = (
        await TrainingVersion.select()
        .where(TrainingVersion.material == material_id)
        .order_by(TrainingVersion.number, ascending=False)
        .first()
    )
    assert latest is not None
    kind: Kind = data.kind or latest["kind"]
    size, mime = await checked_file(rt, data.sha256, kind)
    now = rt.clock.now()
    async with rt.db.transaction():
        row = await _material(material_id, lock=True, rt=rt)
        latest = (
            await TrainingVersion.select()
            .where(TrainingVersion.material == material_id)
            .order_by(TrainingVersion.number, ascending=False)
            .first()
        )
        assert latest is not None
        replaced = None
        number = latest["number"] + 1
        if latest["status"] == "draft":
            # Drafts never reached a phone: a new upload takes the unpublished draft's place.
            replaced = latest["id"]
            number = latest["number"]
            await TrainingVersion.delete().where(TrainingVersion.id == replaced)
        version_id = uuid.uuid4()
        await TrainingVersion.insert(
            TrainingVersion(
                id=version_id,
                material=material_id,
                number=number,
                status="draft",
                title=(data.title if data.title is not None else latest["title"]).strip(),
                description=(
                    data.description if data.description is not None else latest["description"]
                ).strip(),
                kind=kind,
                sha256=data.sha256,
                size=size,
                mime=mime,
                retrain=data.retrain,
                created_by=actor.account_id,
                created_at=now,
            )
        )
        await TrainingMaterial.update({TrainingMaterial.updated_at: now}).where(
            TrainingMaterial.id == material_id
        )
        await _audit(
            rt,
            actor,
            "version_create",
            material_id,
            grant,
            version=version_id,
            number=number,
            sha256=data.sha256,
            retrain=data.retrain,
            replaced=replaced,
        )
    return await material_out(await _material(material_id))


async def publish(rt: Runtime, actor: Actor, material_id: uuid.UUID) -> MaterialOut:
    """The pending draft becomes the current version (the previous one is superseded, kept as
    history); a withdrawn material without a draft is published again as it was."""
    row = await _material(material_id)
    grant = actor.require(Permission.TRAINING_MANAGE, [row["area_path"]])
    now = rt.clock.now()
    async with rt.db.transaction():
        row = await _material(material_id, lock=True, rt=rt)
        draft = (
            await TrainingVersion.select()
            .where((TrainingVersion.material == material_id) & (TrainingVersion.status == "draft"))
            .first()
        )
        changes: dict[Any, Any] = {TrainingMaterial.status: "published", TrainingMaterial.updated_at: now}
        if draft is not None:
            await TrainingVersion.update(
                {TrainingVersion.status: "superseded", TrainingVersion.superseded_at: now}
            ).where((TrainingVersion.material == material_id) & (TrainingVersion.status == "current"))
            await TrainingVersion.update(
                {TrainingVersion.status: "current", TrainingVersion.published_at: now}
            ).where(TrainingVersion.id == draft["id"])
            changes[TrainingMaterial.current_version] = draft["id"]
            if draft["retrain"]:
                changes[TrainingMaterial.completion_from] = draft["number"]
        elif row["status"] != "withdrawn" or row["current_version"] is None:
            raise invalid_state(row["status"], "publish")
        await TrainingMaterial.update(changes).where(TrainingMaterial.id == material_id)
        await _phones_see_change(rt, actor, row)
        version = draft["id"] if draft is not None else row["current_version"]
        await _audit(
            rt,
            actor,
            "publish",
            material_id,
            grant,
            version=version,
            number=draft["number"] if draft is not None else None,
            republished=draft is None,
        )
    return await material_out(await _material(material_id))


async def withdraw(rt: Runtime, actor: Actor, material_id: uuid.UUID, reason: str) -> MaterialOut:
    """Off the phones (they receive a removal); versions and completions are kept."""
    row = await _material(material_id)
    grant = actor.require(Permission.TRAINING_MANAGE, [row["area_path"]])
    async with rt.db.transaction():
        row = await _material(material_id, lock=True, rt=rt)
        if row["status"] != "published":
            raise invalid_state(row["status"], "withdraw")
        await TrainingMaterial.update(
            {TrainingMaterial.status: "withdrawn", TrainingMaterial.updated_at: rt.clock.now()}
        ).where(TrainingMaterial.id == material_id)
        await _phones_see_change(rt, actor, row)
        await _audit(rt, actor, "withdraw", material_id, grant, reason=reason)
    return await material_out(await _material(material_id))


async def get_material(rt: Runtime, actor: Actor, material_id: uuid.UUID) -> MaterialOut:
    _require_reader(actor)
    row = await _material(material_id)
    if not _sees(actor, row["area_path"]):
        raise NotFound("training_material", details={"id": str(material_id)})
    return await material_out(row)


async def list_materials(
    rt: Runtime, actor: Actor, topic: str | None, level: str | None, status: str | None
) -> MaterialList:
    _require_reader(actor)
    query = TrainingMaterial.select()
    if topic:
        query = query.where(TrainingMaterial.topic == topic)
    if level:
        query = query.where(TrainingMaterial.level == level)
    if status:
        query = query.where(TrainingMaterial.status == status)
    rows = [r for r in await query.order_by(TrainingMaterial.created_at) if _sees(actor, r["area_path"])]
    current: dict[Any, dict[str, Any]] = {}
    latest: dict[Any, dict[str, Any]] = {}
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), 500):
        for v in await TrainingVersion.select(
            TrainingVersion.material, TrainingVersion.title, TrainingVersion.number, TrainingVersion.status
        ).where(TrainingVersion.material.is_in(ids[start : start + 500])):
            if v["status"] == "current":
                current[v["material"]] = v
            if v["material"] not in latest or v["number"] > latest[v["material"]]["number"]:
                latest[v["material"]] = v
    items = []
    for r in rows:
        shown = current.get(r["id"]) or latest.get(r["id"])
        items.append(
            MaterialItem(
                id=r["id"],
                topic=r["topic"],
                level=r["level"],
                required=r["required"],
                area_code=r["area_code"],
                status=r["status"],
                title=shown["title"] if shown else "",
                number=current[r["id"]]["number"] if r["id"] in current else None,
                has_draft=r["id"] in latest and latest[r["id"]]["status"] == "draft",
                updated_at=r["updated_at"],
            )
        )
    return MaterialList(items=items)
