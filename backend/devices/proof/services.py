"""Recording proof of play and acknowledgements, and reading coverage and missing acks.

Proof of play goes into the broadcast log through its own service (``record_play``), which keeps it
once per (device, report id); the device's station group fills in when the report names none, so
an emergency play lands in the right station's log. Acknowledgements are kept here, once per
(device, manifest, result).

A device is *targeted* by a notice when it lies in (or below) one of the notice's target areas:
exactly the devices that subscribe to those areas' emergency topics. Staff see the devices of the
areas they hold ``device.read`` on, so a commune sees its own share of a province-wide notice."""

from __future__ import annotations

import uuid
from typing import Any

from backend.broadcast import played_devices, record_play
from backend.broadcast.log.schemas import PlayReport
from backend.broadcast.tables import Emergency, Manifest
from backend.core.accounts.permissions import Actor, Permission
from backend.core.notices.tables import Notice, NoticeTarget
from backend.devices.proof.schemas import (
    AckBatchOut,
    AckIn,
    CoverageFigure,
    DeviceAck,
    EmergencyAcks,
    NoticeCoverage,
    ProofBatchOut,
    ProofIn,
)
from backend.devices.proof.tables import ManifestAck
from backend.devices.tables import Device
from backend.lib.errors import NotFound, ValidationFailed
from backend.runtime import Runtime

PLAYING_KINDS = ("cluster", "eboard")
MAX_LISTED = 500


def _check(report: ProofIn, index: int | None = None) -> None:
    where = "" if index is None else f"reports[{index}]."
    problems = [
        {"field": f"{where}{name}", "reason": "needs a time zone offset"}
        for name in ("started_at", "ended_at")
        if getattr(report, name).tzinfo is None
    ]
    if not problems and report.ended_at < report.started_at:
        problems.append({"field": f"{where}ended_at", "reason": "must not be before started_at"})
    if problems:
        raise ValidationFailed(problems)


def _play_report(device_id: uuid.UUID, group_id: uuid.UUID | None, report: ProofIn) -> PlayReport:
    return PlayReport(
        device_id=str(device_id),
        group_id=report.group_id or group_id,
        report_id=report.report_id,
        manifest_id=report.manifest_id,
        item_id=report.item_id,
        notice_id=report.notice_id,
        media_sha256=report.media_sha256,
        started_at=report.started_at,
        ended_at=report.ended_at,
        result=report.result,
        detail=report.detail,
    )


async def record_proofs(
    rt: Runtime, device_id: uuid.UUID, group_id: uuid.UUID | None, reports: list[ProofIn]
) -> ProofBatchOut:
    """Store a device's reports: all checked first, so a bad one changes nothing."""
    for i, report in enumerate(reports):
        _check(report, i if len(reports) > 1 else None)
    recorded = 0
    async with rt.db.transaction():
        for report in reports:
            recorded += int(await record_play(rt, _play_report(device_id, group_id, report)))
    return ProofBatchOut(recorded=recorded, duplicates=len(reports) - recorded)


async def record_acks(rt: Runtime, acks: list[tuple[uuid.UUID, AckIn]]) -> int:
    """Store acknowledgements (a batch, as they arrive from many devices); returns how many are
    new. One stored before, or naming no manifest we issued, is skipped; a rejected manifest that
    could not even be read is kept, with its reason. Call inside a transaction."""
    wanted = list({a.manifest_id for _, a in acks if a.manifest_id is not None})
    manifests = (
        {
            m["id"]: m
            for m in await Manifest.select(
                Manifest.id, Manifest.scope, Manifest.kind, Manifest.version, Manifest.thread_id
            ).where(Manifest.id.is_in(wanted))
        }
        if wanted
        else {}
    )
    rows: dict[tuple[str, str], ManifestAck] = {}
    now = rt.clock.now()
    for device_id, ack in acks:
        manifest = manifests.get(ack.manifest_id) if ack.manifest_id is not None else None
        if (ack.manifest_id is not None and manifest is None) or (
            ack.manifest_id is None and ack.result == "accepted"
        ):
            continue
        key = f"{ack.manifest_id or '-'}:{ack.result}:{ack.reason if manifest is None else ''}"[:120]
        rows.setdefault(
            (str(device_id), key),
            ManifestAck(
                device_id=str(device_id),
                ack_key=key,
                manifest_id=ack.manifest_id,
                scope=manifest["scope"] if manifest else ack.scope,
                kind=manifest["kind"] if manifest else ack.kind,
                version=manifest["version"] if manifest else ack.version,
                thread_id=manifest["thread_id"] if manifest else None,
                result=ack.result,
                reason=ack.reason,
                acked_at=ack.at,
                received_at=now,
            ),
        )
    if not rows:
        return 0
    stored = await (
        ManifestAck.insert(*rows.values())
        .on_conflict(target=(ManifestAck.device_id, ManifestAck.ack_key), action="DO NOTHING")
        .returning(ManifestAck.id)
    )
    return len(stored)


async def record_ack_batch(rt: Runtime, device_id: uuid.UUID, acks: list[AckIn]) -> AckBatchOut:
    """A device's acknowledgements over HTTP, stored as those from MQTT are."""
    async with rt.db.transaction():
        recorded = await record_acks(rt, [(device_id, a) for a in acks])
    return AckBatchOut(recorded=recorded, duplicates=len(acks) - recorded)


async def _notice(notice_id: uuid.UUID) -> tuple[dict[str, Any], list[str]]:
    row = await (
        Notice.select(Notice.id, Notice.thread_id, Notice.version).where(Notice.id == notice_id).first()
    )
    if row is None:
        raise NotFound("notice", details={"id": str(notice_id)})
    targets = await NoticeTarget.select(NoticeTarget.area_path).where(NoticeTarget.notice == notice_id)
    return row, [t["area_path"] for t in targets]


async def targeted_devices(
    actor: Actor, area_paths: list[str], kinds: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Active devices of ``kinds`` in (or below) ``area_paths`` that ``actor`` may watch."""
    actor.require(Permission.DEVICE_READ)
    scope = actor.scope_paths(Permission.DEVICE_READ)
    if not area_paths:
        return []
    reach = Device.area_path.like(f"{area_paths[0]}%")
    for path in area_paths[1:]:
        reach = reach | Device.area_path.like(f"{path}%")
    rows = await (
        Device.select(Device.id, Device.name, Device.kind, Device.area_code, Device.area_path, Device.state)
        .where(reach & Device.kind.is_in(list(kinds)) & (Device.status != "retired"))
        .order_by(Device.area_path)
        .order_by(Device.name)
    )
    return [r for r in rows if any(r["area_path"].startswith(s) for s in scope)]


def _figure(devices: list[dict[str, Any]], confirmed: set[str]) -> CoverageFigure:
    missing = [d["id"] for d in devices if str(d["id"]) not in confirmed]
    return CoverageFigure(
        targeted=len(devices), confirmed=len(devices) - len(missing), missing=missing[:MAX_LISTED]
    )


async def notice_coverage(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> NoticeCoverage:
    notice, paths = await _notice(notice_id)
    devices = await targeted_devices(actor, paths, PLAYING_KINDS)
    played = await played_devices(rt, notice_id)
    clusters = _figure([d for d in devices if d["kind"] == "cluster"], played)
    boards = _figure([d for d in devices if d["kind"] == "eboard"], played)
    targeted = clusters.targeted + boards.targeted
    confirmed = clusters.confirmed + boards.confirmed
    return NoticeCoverage(
        notice_id=notice["id"],
        thread_id=notice["thread_id"],
        version=notice["version"],
        clusters=clusters,
        boards=boards,
        ratio=round(confirmed / targeted, 4) if targeted else 1.0,
    )


async def emergency_acks(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> EmergencyAcks:
    """Every targeted device of the notice's emergency thread and its acknowledgement of the
    thread's current manifest, missing ones first."""
    notice, paths = await _notice(notice_id)
    state = await Emergency.select().where(Emergency.thread_id == notice["thread_id"]).first()
    if state is None:
        raise NotFound("emergency", details={"thread_id": str(notice["thread_id"])})
    current = await (
        Manifest.select(Manifest.version, Manifest.ended)
        .where((Manifest.thread_id == notice["thread_id"]) & (Manifest.current == True))  # noqa: E712 (SQL)
        .first()
    )
    version = current["version"] if current else state["version"]
    devices = await targeted_devices(actor, paths, ("cluster", "eboard", "receiver"))
    acks = await (
        ManifestAck.select(
            ManifestAck.device_id,
            ManifestAck.result,
            ManifestAck.version,
            ManifestAck.reason,
            ManifestAck.acked_at,
        )
        .where(ManifestAck.thread_id == notice["thread_id"])
        .order_by(ManifestAck.version)
        .order_by(ManifestAck.id)
    )
    latest: dict[str, dict[str, Any]] = {}
    for ack in acks:  # the last accepted wins; a rejection counts only without an acceptance
        held = latest.get(ack["device_id"])
        if held is None or ack["result"] == "accepted" or held["result"] != "accepted":
            latest[ack["device_id"]] = ack
    statuses = []
    for d in devices:
        ack = latest.get(str(d["id"]))
        if ack is None:
            status = "missing"
        elif ack["result"] == "rejected":
            status = "rejected"
        else:
            status = "accepted" if ack["version"] == version else "outdated"
        statuses.append((status, d, ack))
    accepted = sum(1 for status, _, _ in statuses if status == "accepted")
    # Staff poll this while an emergency goes out: only the devices listed are built.
    statuses.sort(key=lambda item: item[0] == "accepted")
    listed = [
        DeviceAck(
            device_id=d["id"],
            name=d["name"],
            kind=d["kind"],
            area_code=d["area_code"],
            presence=d["state"],
            status=status,
            version=ack["version"] if ack else None,
            reason=ack["reason"] if ack else "",
            acked_at=ack["acked_at"] if ack else None,
        )
        for status, d, ack in statuses[:MAX_LISTED]
    ]
    return EmergencyAcks(
        thread_id=notice["thread_id"],
        notice_id=state["notice_id"],
        version=version,
        ended=bool(current and current["ended"]),
        targeted=len(statuses),
        accepted=accepted,
        missing=len(statuses) - accepted,
        devices=listed,
    )
