"""The upstream's side of reports: registered downstream systems and the reports they send.

A downstream is registered by an admin with its province code and the public keys of its province
key ring (several during a rotation). A report is accepted only when its envelope is signed by one
of those keys and its payload names that province; it is stored once per (province, period): the
same report again is a ``duplicate`` (a retry whose answer was lost), a newer one for the period
``replaced`` it (figures regenerated after late data), an older one is ``stale`` and ignored."""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import msgspec

from backend.core.accounts.permissions import Actor, Permission
from backend.core.areas import services as areas
from backend.core.audit import services as audit
from backend.lib.crypto import b64url_decode, verify_envelope
from backend.lib.db import json_column
from backend.lib.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from backend.runtime import Runtime
from backend.upstream.schemas import (
    DownstreamIn,
    DownstreamOut,
    DownstreamReportList,
    DownstreamReportOut,
    PublicKeyIn,
    ReportPayload,
    ReportReceipt,
    SignedEnvelope,
)
from backend.upstream.tables import DownstreamReport, DownstreamSystem


def _out(row: dict[str, Any]) -> DownstreamOut:
    return DownstreamOut(
        province_code=row["province_code"],
        name=row["name"],
        keys=[msgspec.convert(k, PublicKeyIn) for k in json_column(row["keys"], [])],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def register(rt: Runtime, actor: Actor, province_code: str, data: DownstreamIn) -> DownstreamOut:
    """Register (or replace the keys of) a downstream system; audited."""
    area = await areas.get(rt, province_code)
    grant = actor.require(Permission.ACCOUNT_MANAGE, [area["path"]])
    keys = msgspec.to_builtins(data.keys)
    now = rt.clock.now()
    async with rt.db.transaction():
        existing = (
            await DownstreamSystem.select().where(DownstreamSystem.province_code == province_code).first()
        )
        if existing is None:
            await DownstreamSystem.insert(
                DownstreamSystem(
                    province_code=province_code, name=data.name, keys=keys, created_at=now, updated_at=now
                )
            )
        else:
            await DownstreamSystem.update(
                {
                    DownstreamSystem.name: data.name,
                    DownstreamSystem.keys: keys,
                    DownstreamSystem.updated_at: now,
                }
            ).where(DownstreamSystem.province_code == province_code)
        await audit.record(
            rt,
            actor,
            "upstream.downstream_register",
            target_type="downstream_system",
            target_id=province_code,
            grant=grant,
            details={"name": data.name, "kids": [k.kid for k in data.keys]},
        )
    row = await DownstreamSystem.select().where(DownstreamSystem.province_code == province_code).first()
    assert row is not None
    return _out(row)


async def receive_report(rt: Runtime, body: bytes) -> ReportReceipt:
    try:
        envelope = msgspec.json.decode(body, type=SignedEnvelope)
    except msgspec.ValidationError as exc:
        raise BadRequest(
            "invalid_input", message_key="error.validation", details=[{"reason": str(exc)}]
        ) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(
            "invalid_input", message_key="error.validation", details=[{"reason": "not JSON"}]
        ) from exc
    # The province is read from the payload before verifying, to find its keys; nothing from
    # it is trusted until the signature checks out.
    try:
        claimed = msgspec.json.decode(b64url_decode(envelope.payload))
        province = str(claimed["province_code"])
    except Exception as exc:
        raise BadRequest(
            "invalid_input", message_key="error.validation", details=[{"field": "payload"}]
        ) from exc
    system = await DownstreamSystem.select().where(DownstreamSystem.province_code == province).first()
    if system is None:
        raise Forbidden("downstream_unknown", details={"province_code": province})
    keys = {k["kid"]: k["public_key"] for k in json_column(system["keys"], [])}
    if envelope.kid not in keys:
        raise Forbidden("downstream_key_unknown", details={"kid": envelope.kid})
    payload_bytes = verify_envelope(keys[envelope.kid], envelope.payload, envelope.sig)
    if payload_bytes is None:
        raise Forbidden("bad_signature", details={"kid": envelope.kid})
    try:
        payload = msgspec.json.decode(payload_bytes, type=ReportPayload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValidationFailed([{"field": "payload", "reason": str(exc)}]) from exc
    if len(payload.period) != 10 or payload.period_end <= payload.period_start:
        raise ValidationFailed([{"field": "payload.period", "reason": "a day YYYY-MM-DD with start < end"}])
    return await _store(rt, payload, payload_bytes, envelope.kid)


async def _store(rt: Runtime, payload: ReportPayload, payload_bytes: bytes, kid: str) -> ReportReceipt:
    digest = hashlib.sha256(payload_bytes).hexdigest()
    now = rt.clock.now()
    generated = payload.generated_at.astimezone(UTC)
    stored = msgspec.to_builtins(payload)
    where = (DownstreamReport.province_code == payload.province_code) & (
        DownstreamReport.period == payload.period
    )
    async with rt.db.transaction():
        existing = await DownstreamReport.select().where(where).first()
        if existing is None:
            inserted = await (
                DownstreamReport.insert(
                    DownstreamReport(
                        province_code=payload.province_code,
                        period=payload.period,
                        generated_at=generated,
                        payload=stored,
                        payload_sha256=digest,
                        kid=kid,
                        received_at=now,
                        updated_at=now,
                    )
                )
                .on_conflict(
                    target=(DownstreamReport.province_code, DownstreamReport.period), action="DO NOTHING"
                )
                .returning(DownstreamReport.id)
            )
            status = "accepted" if inserted else "duplicate"
        elif existing["payload_sha256"] == digest:
            status = "duplicate"
        elif existing["generated_at"] < generated:
            await DownstreamReport.update(
                {
                    DownstreamReport.generated_at: generated,
                    DownstreamReport.payload: stored,
                    DownstreamReport.payload_sha256: digest,
                    DownstreamReport.kid: kid,
                    DownstreamReport.updated_at: now,
                }
            ).where(where)
            status = "replaced"
        else:
            status = "stale"
    return ReportReceipt(status=status, province_code=payload.province_code, period=payload.period)  # type: ignore[arg-type]


async def reports(rt: Runtime, actor: Actor, province_code: str) -> DownstreamReportList:
    area = await areas.get(rt, province_code)
    if not actor.can(Permission.ACCOUNT_MANAGE, [area["path"]]):
        actor.require(Permission.NOTICE_READ, [area["path"]])
    if not await DownstreamSystem.exists().where(DownstreamSystem.province_code == province_code):
        raise NotFound("downstream_system", details={"province_code": province_code})
    rows = await (
        DownstreamReport.select()
        .where(DownstreamReport.province_code == province_code)
        .order_by(DownstreamReport.period, ascending=False)
        .limit(366)
    )
    return DownstreamReportList(
        items=[
            DownstreamReportOut(
                province_code=r["province_code"],
                period=r["period"],
                generated_at=r["generated_at"],
                received_at=r["received_at"],
                kid=r["kid"],
                payload=json_column(r["payload"], {}),
            )
            for r in rows
        ]
    )
