"""Issue, store and read signed manifests.

A manifest is issued for a scope (``group:<id>:audio``, ``group:<id>:eboard`` or
``emergency:<thread id>``) with a version one above the scope's last. Issuing the same content
again (same entries, media, notices, targets and end of validity) returns the manifest already
issued instead of a new version, so a retried outbox row or a rebuild that changes nothing sends
nothing new. The unique (scope, version) index makes two concurrent issuers of one scope fail
one of them rather than both claiming the same version."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.broadcast.manifests.signing import SCHEMA, sign
from backend.broadcast.tables import Manifest
from backend.lib.db import json_column
from backend.runtime import Runtime


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def group_scope(group_id: uuid.UUID | str, kind: str) -> str:
    return f"group:{group_id}:{kind}"


def emergency_scope(thread_id: uuid.UUID | str) -> str:
    return f"emergency:{thread_id}"


@dataclass(frozen=True)
class Issued:
    id: uuid.UUID
    scope: str
    version: int
    envelope: bytes
    changed: bool
    published: bool


@dataclass(frozen=True)
class Draft:
    """What goes into a manifest, before it gets an id, a version and a signature."""

    kind: str
    scope: str
    station_id: uuid.UUID | None
    group_id: uuid.UUID | None
    area_codes: list[str]
    entries: list[dict[str, Any]]
    media: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    valid_from: datetime
    valid_until: datetime
    thread_id: uuid.UUID | None = None
    extra: dict[str, Any] | None = None

    def content_hash(self) -> str:
        content = {
            "kind": self.kind,
            "station_id": _s(self.station_id),
            "group_id": _s(self.group_id),
            "area_codes": self.area_codes,
            "entries": self.entries,
            "media": self.media,
            "notices": self.notices,
            "valid_until": iso(self.valid_until),
            "extra": self.extra or {},
        }
        return hashlib.sha256(msgspec.json.encode(content)).hexdigest()


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


async def issue(rt: Runtime, draft: Draft) -> Issued:
    """The scope's manifest for this content: the existing one if unchanged, else a new version."""
    content_hash = draft.content_hash()
    now = rt.clock.now()
    async with rt.db.transaction():
        latest = await (
            Manifest.select(
                Manifest.id, Manifest.version, Manifest.content_hash, Manifest.envelope, Manifest.published_at
            )
            .where(Manifest.scope == draft.scope)
            .order_by(Manifest.version, ascending=False)
            .first()
        )
        if latest is not None and latest["content_hash"] == content_hash:
            return Issued(
                id=latest["id"],
                scope=draft.scope,
                version=latest["version"],
                envelope=latest["envelope"].encode(),
                changed=False,
                published=latest["published_at"] is not None,
            )
        version = latest["version"] + 1 if latest else 1
        manifest_id = uuid.uuid4()
        payload: dict[str, Any] = {
            "schema": SCHEMA,
            "manifest_id": str(manifest_id),
            "kind": draft.kind,
            "station_id": _s(draft.station_id),
            "group_id": _s(draft.group_id),
            "area_codes": draft.area_codes,
            "version": version,
            "issued_at": iso(now),
            "valid_from": iso(draft.valid_from),
            "valid_until": iso(draft.valid_until),
            "entries": draft.entries,
            "media": draft.media,
            "notices": draft.notices,
            **(draft.extra or {}),
        }
        if draft.thread_id is not None:
            payload["thread_id"] = str(draft.thread_id)
        envelope = sign(rt.province_keys.current, payload)
        await Manifest.update({Manifest.current: False}).where(
            (Manifest.scope == draft.scope) & (Manifest.current == True)  # noqa: E712 (SQL)
        )
        await Manifest.insert(
            Manifest(
                id=manifest_id,
                scope=draft.scope,
                kind=draft.kind,
                station_id=draft.station_id,
                group_id=draft.group_id,
                thread_id=draft.thread_id,
                version=version,
                area_codes=draft.area_codes,
                notice_ids=sorted({n["id"] for n in draft.notices}),
                content_hash=content_hash,
                envelope=envelope.decode(),
                issued_at=now,
                valid_from=draft.valid_from,
                valid_until=draft.valid_until,
                ended=bool((draft.extra or {}).get("ended")),
                current=True,
            )
        )
    return Issued(
        id=manifest_id, scope=draft.scope, version=version, envelope=envelope, changed=True, published=False
    )


async def mark_published(rt: Runtime, manifest_id: uuid.UUID) -> None:
    await Manifest.update({Manifest.published_at: rt.clock.now()}).where(
        (Manifest.id == manifest_id) & Manifest.published_at.is_null()
    )


async def current_for_group(rt: Runtime, group_id: uuid.UUID) -> list[bytes]:
    """The group's current audio and e-board manifests that are still valid, audio first."""
    rows = await (
        Manifest.select(Manifest.kind, Manifest.envelope)
        .where(
            (Manifest.group_id == group_id)
            & (Manifest.current == True)  # noqa: E712 (SQL)
            & (Manifest.valid_until > rt.clock.now())
        )
        .order_by(Manifest.kind)
    )
    return [r["envelope"].encode() for r in rows]


async def active_emergencies(rt: Runtime, area_codes: list[str]) -> list[bytes]:
    """Current, not ended, still valid emergency manifests targeting any of ``area_codes``."""
    wanted = set(area_codes)
    rows = await Manifest.select(Manifest.area_codes, Manifest.envelope, Manifest.issued_at).where(
        (Manifest.kind == "emergency")
        & (Manifest.current == True)  # noqa: E712 (SQL)
        & (Manifest.ended == False)  # noqa: E712 (SQL)
        & (Manifest.valid_until > rt.clock.now())
    )
    hits = [r for r in rows if wanted & set(json_column(r["area_codes"], []))]
    hits.sort(key=lambda r: r["issued_at"])
    return [r["envelope"].encode() for r in hits]


async def get_envelope(rt: Runtime, manifest_id: uuid.UUID) -> dict[str, Any] | None:
    return await (
        Manifest.select(Manifest.id, Manifest.kind, Manifest.group_id, Manifest.station_id, Manifest.envelope)
        .where(Manifest.id == manifest_id)
        .first()
    )
