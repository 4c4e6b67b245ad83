"""CSV import of devices (e.g. a commune's twenty clusters), all or nothing.

Every row is checked — its fields, its area and group, the importer's right over that area, and
hardware ids unique in the file and in the registry — and every problem is reported with its row
number (the header is row 1). Only a file without any problem is imported, in one transaction,
so a fixed file can simply be sent again. Optionally each device gets a claim code at once."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import msgspec

from backend.broadcast.tables import StationGroup
from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.devices import provisioning
from backend.devices.schemas import DeviceImportResult, DeviceIn, ImportedDevice
from backend.devices.services import Placement, new_device, place
from backend.devices.tables import Device
from backend.lib.errors import BadRequest, ValidationFailed
from backend.runtime import Runtime

COLUMNS = (
    "kind",
    "area_code",
    "name",
    "hardware_id",
    "group",
    "latitude",
    "longitude",
    "codecs",
    "screen_width",
    "screen_height",
    "firmware",
    "notes",
)
REQUIRED = ("kind", "area_code")
MAX_ROWS = 5000
_NUMBERS = {"latitude": float, "longitude": float, "screen_width": int, "screen_height": int}


def _row_error(row: int, field: str, reason: str) -> dict[str, str]:
    return {"row": str(row), "field": field, "reason": reason}


def parse(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise BadRequest(
            "bad_csv_header",
            details={"missing": missing, "unknown": unknown, "columns": list(COLUMNS)},
        )
    rows = [
        (number, {k.strip(): (v or "").strip() for k, v in raw.items() if k})
        for number, raw in enumerate(reader, start=2)
    ]
    if not rows:
        raise BadRequest("empty_csv", details={"reason": "no device rows"})
    if len(rows) > MAX_ROWS:
        raise BadRequest("too_many_rows", details={"max_rows": MAX_ROWS})
    return rows


def _to_input(number: int, row: dict[str, str], errors: list[dict[str, str]]) -> DeviceIn | None:
    body: dict[str, Any] = {"kind": row.get("kind", ""), "area_code": row.get("area_code", "")}
    for name in ("name", "hardware_id", "firmware", "notes"):
        if row.get(name):
            body[name] = row[name]
    capabilities: dict[str, Any] = {}
    for name, cast in _NUMBERS.items():
        if not row.get(name):
            continue
        try:
            value = cast(row[name].replace(",", ".") if cast is float else row[name])
        except ValueError:
            errors.append(_row_error(number, name, f"not a number: {row[name]}"))
            return None
        (capabilities if name.startswith("screen") else body)[name] = value
    if row.get("codecs"):
        capabilities["codecs"] = [c for c in row["codecs"].replace(";", " ").split() if c]
    body["capabilities"] = capabilities
    try:
        data = msgspec.convert(body, DeviceIn)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("at `$.", 1)
        field = path[1].rstrip("`").split(".")[-1].split("[")[0] if len(path) == 2 else ""
        errors.append(_row_error(number, field, str(exc)))
        return None
    if (data.latitude is None) != (data.longitude is None):
        errors.append(_row_error(number, "latitude", "give both latitude and longitude, or neither"))
        return None
    return data


async def _group(placement: Placement, value: str) -> uuid.UUID | None:
    """A group named by id or by name among the station's groups; None when not found."""
    if placement.station_id is None:
        return None
    groups = await StationGroup.select(StationGroup.id, StationGroup.name).where(
        StationGroup.station_id == placement.station_id
    )
    for g in groups:
        if str(g["id"]) == value or g["name"].casefold() == value.casefold():
            return g["id"]
    return None


async def _check(
    actor: Actor, number: int, row: dict[str, str], seen: dict[str, int], errors: list[dict[str, str]]
) -> tuple[DeviceIn, Placement] | None:
    data = _to_input(number, row, errors)
    if data is None:
        return None
    try:
        placement = await place(data.area_code, None)
    except ValidationFailed as exc:
        errors += [_row_error(number, e["field"], e["reason"]) for e in exc.details]
        return None
    if not actor.can(Permission.DEVICE_MANAGE, [placement.area_path]):
        errors.append(_row_error(number, "area_code", f"{data.area_code} is outside your areas"))
        return None
    if row.get("group"):
        group_id = await _group(placement, row["group"])
        if group_id is None:
            errors.append(_row_error(number, "group", f"no group {row['group']} at the commune's station"))
            return None
        placement = Placement(placement.area_code, placement.area_path, placement.station_id, group_id)
    if data.hardware_id:
        if data.hardware_id in seen:
            errors.append(
                _row_error(number, "hardware_id", f"{data.hardware_id} repeats row {seen[data.hardware_id]}")
            )
            return None
        seen[data.hardware_id] = number
        if await Device.exists().where(Device.hardware_id == data.hardware_id):
            errors.append(_row_error(number, "hardware_id", f"{data.hardware_id} is already registered"))
            return None
    return data, placement


async def import_csv(
    rt: Runtime, actor: Actor, text: str, *, claim_codes: bool = False
) -> DeviceImportResult:
    actor.require(Permission.DEVICE_MANAGE)
    rows = parse(text)
    errors: list[dict[str, str]] = []
    checked: list[tuple[int, DeviceIn, Placement]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        ok = await _check(actor, number, row, seen, errors)
        if ok is not None:
            checked.append((number, *ok))
    if errors:
        raise ValidationFailed(errors, message_key="error.device_import")
    now = rt.clock.now()
    items: list[ImportedDevice] = []
    async with rt.db.transaction():
        for number, data, placement in checked:
            device = new_device(data, placement, now)
            await Device.insert(device)
            code = (
                await provisioning.store_claim_code(rt, device.id, actor.account_id) if claim_codes else None
            )
            items.append(
                ImportedDevice(
                    row=number,
                    device_id=device.id,
                    name=device.name,
                    hardware_id=data.hardware_id,
                    area_code=placement.area_code,
                    group_id=placement.group_id,
                    claim_code=code.code if code else None,
                    claim_expires_at=code.expires_at if code else None,
                )
            )
        await audit.record(
            rt,
            actor,
            "device.import",
            target_type="device",
            details={
                "rows": len(items),
                "claim_codes": claim_codes,
                "ids": [str(i.device_id) for i in items],
            },
        )
    return DeviceImportResult(created=len(items), items=items)
