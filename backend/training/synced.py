"""The training library on officials' phones, so they can study without signal.

``training_material`` (read-only): the published materials aimed at an official's areas or above
them (a province-wide material reaches every commune official), each with its current version and the
file's sha256, size and URL; the phone downloads the file from the blob store with ``Range``
(resumable). A new version is the same row, changed; a withdrawn material is removed from phones.

``training_completion`` (created on the phone, never edited or deleted): "I studied this version",
with the time on the phone. Each official sees only their own marks. One mark per official and
version: a second mark of the same version (from another phone) is refused as ``already_completed``
and the first mark — with its time — stands; a completion is never undone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor, Permission, within
from backend.core.audit import services as audit
from backend.core.changes.services import record_change
from backend.lib.errors import Conflict, Forbidden, ValidationFailed
from backend.runtime import Runtime
from backend.sync import Context, Field, Registry, Row, RowChanged, SyncedTable, scope_condition, wire_value
from backend.training.schemas import LEVEL_NAMES
from backend.training.services import blob_url
from backend.training.tables import TrainingCompletion, TrainingMaterial, TrainingTopic, TrainingVersion

MATERIALS = "training_material"
COMPLETIONS = "training_completion"
CHUNK = 500

COMPLETION_FIELDS = {
    "version": Field("server_wins", create_only=True),
    "completed_at": Field("server_wins", create_only=True),
}


class CompletionFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: str | None = None
    completed_at: str | None = None


def _uuids(ids: Sequence[str]) -> list[uuid.UUID]:
    out = []
    for value in ids:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out


# --- materials --------------------------------------------------------------------------------


async def load_materials(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    """Published materials only: a draft or withdrawn one is absent, which phones take as removed."""
    wanted = _uuids(ids)
    out: dict[str, Row] = {}
    topics = {
        t["code"]: t["name"] for t in await TrainingTopic.select(TrainingTopic.code, TrainingTopic.name)
    }
    for start in range(0, len(wanted), CHUNK):
        rows = await TrainingMaterial.select().where(
            TrainingMaterial.id.is_in(wanted[start : start + CHUNK])
            & (TrainingMaterial.status == "published")
            & TrainingMaterial.current_version.is_not_null()
        )
        if not rows:
            continue
        versions = {
            v["id"]: v
            for v in await TrainingVersion.select().where(
                TrainingVersion.id.is_in([r["current_version"] for r in rows])
            )
        }
        for r in rows:
            v = versions.get(r["current_version"])
            if v is None:
                continue
            out[str(r["id"])] = Row(
                id=str(r["id"]),
                data={
                    "topic": r["topic"],
                    "topic_name": topics.get(r["topic"], r["topic"]),
                    "level": r["level"],
                    "level_name": LEVEL_NAMES.get(r["level"], r["level"]),
                    "required": r["required"],
                    "area": r["area_code"],
                    "version": str(v["id"]),
                    "number": v["number"],
                    "counts_from": r["completion_from"],
                    "title": v["title"],
                    "description": v["description"],
                    "kind": v["kind"],
                    "sha256": v["sha256"],
                    "size": v["size"],
                    "mime": v["mime"],
                    "url": blob_url(v["sha256"]),
                    "published_at": wire_value(v["published_at"]),
                },
                paths=(r["area_path"],),
                raw=r,
            )
    return out


async def materials_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    condition = scope_condition(
        TrainingMaterial.area_path, actor.scope_paths(Permission.TRAINING_STUDY), ancestors=True
    )
    if condition is None:
        return []
    rows = await TrainingMaterial.select(TrainingMaterial.id).where(
        condition & (TrainingMaterial.status == "published") & TrainingMaterial.current_version.is_not_null()
    )
    return sorted(str(r["id"]) for r in rows)


# --- completions ------------------------------------------------------------------------------


def _completion_row(r: dict[str, Any]) -> Row:
    return Row(
        id=str(r["id"]),
        data={
            "material": str(r["material"]),
            "version": str(r["version"]),
            "number": r["number"],
            "completed_at": wire_value(r["completed_at"]),
            "recorded_at": wire_value(r["recorded_at"]),
        },
        paths=(r["area_path"],),
        raw=r,
    )


async def load_completions(rt: Runtime, ids: Sequence[str]) -> dict[str, Row]:
    wanted = _uuids(ids)
    out: dict[str, Row] = {}
    for start in range(0, len(wanted), CHUNK):
        for r in await TrainingCompletion.select().where(
            TrainingCompletion.id.is_in(wanted[start : start + CHUNK])
        ):
            out[str(r["id"])] = _completion_row(r)
    return out


async def completions_in_scope(rt: Runtime, actor: Actor) -> list[str]:
    if actor.account_id is None or not actor.scope_paths(Permission.TRAINING_STUDY):
        return []
    rows = await TrainingCompletion.select(TrainingCompletion.id).where(
        TrainingCompletion.account == actor.account_id
    )
    return sorted(str(r["id"]) for r in rows)


def own_completion(actor: Actor, row: Row) -> bool:
    return (
        actor.account_id is not None
        and bool(actor.scope_paths(Permission.TRAINING_STUDY))
        and str(row.raw["account"]) == str(actor.account_id)
    )


def _bad(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([{"field": f"f.{field}", "reason": reason}])


def _parse_time(value: str | None) -> datetime:
    if not value:
        raise _bad("completed_at", "required")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad("completed_at", "an ISO 8601 time with its offset") from exc
    if when.tzinfo is None:
        raise _bad("completed_at", "an ISO 8601 time with its offset")
    return when


async def create_completion(ctx: Context, row_id: str, values: dict[str, Any]) -> None:
    try:
        typed = msgspec.convert(values, CompletionFields)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([{"field": "f", "reason": str(exc)}]) from exc
    try:
        version_id = uuid.UUID(typed.version or "")
    except ValueError as exc:
        raise _bad("version", "the id of a published version") from exc
    when = _parse_time(typed.completed_at)
    version = await TrainingVersion.select().where(TrainingVersion.id == version_id).first()
    if version is None or version["published_at"] is None:
        raise _bad("version", "no published version of a training material has this id")
    material = await TrainingMaterial.select().where(TrainingMaterial.id == version["material"]).first()
    assert material is not None
    # Marks count where the official studies: the grant through which the material reached them.
    grant = next(
        (
            g
            for g in ctx.actor.grants_with(Permission.TRAINING_STUDY)
            if within(g.area_path, material["area_path"]) or within(material["area_path"], g.area_path)
        ),
        None,
    )
    if grant is None:
        raise Forbidden(
            "out_of_area", message_key="error.out_of_area", details={"permission": "training.study"}
        )
    first = (
        await TrainingCompletion.select(TrainingCompletion.id, TrainingCompletion.completed_at)
        .where(
            (TrainingCompletion.account == ctx.actor.account_id) & (TrainingCompletion.version == version_id)
        )
        .first()
    )
    if first is not None:
        raise Conflict(
            "already_completed",
            message_key="error.training_already_completed",
            details={"id": str(first["id"]), "completed_at": wire_value(first["completed_at"])},
        )
    now = ctx.rt.clock.now()
    # A phone's clock may be wrong: a mark is never before the version was published, nor in the future.
    completed_at = min(max(when, version["published_at"]), now)
    try:
        await TrainingCompletion.insert(
            TrainingCompletion(
                id=uuid.UUID(row_id),
                account=ctx.actor.account_id,
                material=material["id"],
                version=version_id,
                number=version["number"],
                area_path=grant.area_path,
                completed_at=completed_at,
                recorded_at=now,
                device_id=ctx.device_id[:64],
            )
        )
    except Exception as exc:
        # The same mark from another phone of this official committed in between (unique index):
        # the engine retries, and the check above then answers already_completed.
        raise RowChanged("completion_race") from exc
    await record_change(
        ctx.rt,
        table=COMPLETIONS,
        row_id=row_id,
        op="upsert",
        area_paths=[grant.area_path],
        actor_id=ctx.actor.account_id,
    )
    await audit.record(
        ctx.rt,
        ctx.actor,
        "training.complete",
        target_type=COMPLETIONS,
        target_id=row_id,
        grant=grant,
        details={**ctx.audit_details, "material": str(material["id"]), "version": str(version_id)},
    )


def register(registry: Registry) -> None:
    registry.add(
        SyncedTable(
            name=MATERIALS,
            load=load_materials,
            ids_in_scope=materials_in_scope,
            permission=Permission.TRAINING_STUDY,
            ancestors=True,
            shared=True,  # published materials of the grants' areas and above
        )
    )
    registry.add(
        SyncedTable(
            name=COMPLETIONS,
            load=load_completions,
            ids_in_scope=completions_in_scope,
            permission=Permission.TRAINING_STUDY,
            visible=own_completion,
            fields=COMPLETION_FIELDS,
            schema=CompletionFields,
            create=create_completion,
        )
    )
