"""The administrative tree: lookups, subtree tests and imports.

Depth is data: a deployment may have districts or not, villages or not. Every area's ``path`` is
its parent's path plus its own code, so moving an area rewrites its subtree's paths in one UPDATE."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backend.core.areas.schemas import LEVELS, AreaList, AreaOut, ImportResult
from backend.core.areas.tables import Area
from backend.core.changes.services import Change, record_changes
from backend.lib.errors import NotFound, ValidationFailed
from backend.lib.i18n import fold, nfc
from backend.runtime import Runtime

ROOT_CODE = "VN"
ROOT_PATH = f"/{ROOT_CODE}/"


@dataclass(frozen=True)
class AreaRecord:
    code: str
    name: str
    level: str
    parent_code: str | None
    division_type: str = ""


def to_schema(row: dict[str, Any]) -> AreaOut:
    return AreaOut(
        code=row["code"],
        name=row["name"],
        level=row["level"],
        division_type=row["division_type"],
        parent_code=row["parent_code"],
        path=row["path"],
        depth=row["depth"],
    )


async def get(rt: Runtime, code: str) -> dict[str, Any]:
    row = await Area.select().where(Area.code == code).first()
    if row is None:
        raise NotFound("area", details={"code": code})
    return row


async def paths_for(rt: Runtime, codes: Iterable[str], field: str = "areas") -> dict[str, str]:
    """Map area codes to paths; unknown codes are a validation error naming each one."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await Area.select(Area.code, Area.path).where(Area.code.is_in(wanted))
    found = {r["code"]: r["path"] for r in rows}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ValidationFailed([{"field": field, "reason": f"unknown area code {c}"} for c in missing])
    return found


async def children(rt: Runtime, code: str) -> AreaList:
    await get(rt, code)
    rows = await Area.select().where(Area.parent_code == code).order_by(Area.name_folded)
    return AreaList(items=[to_schema(r) for r in rows])


async def ancestors(rt: Runtime, code: str) -> AreaList:
    row = await get(rt, code)
    codes = [c for c in row["path"].strip("/").split("/")][:-1]
    if not codes:
        return AreaList(items=[])
    rows = await Area.select().where(Area.code.is_in(codes))
    by_code = {r["code"]: r for r in rows}
    return AreaList(items=[to_schema(by_code[c]) for c in codes if c in by_code])


async def search(
    rt: Runtime, *, q: str | None, parent: str | None, level: str | None, within: str | None, limit: int
) -> AreaList:
    query = Area.select()
    if parent:
        query = query.where(Area.parent_code == parent)
    if level:
        query = query.where(Area.level == level)
    if within:
        root = await get(rt, within)
        query = query.where(Area.path.like(f"{root['path']}%"))
    if q:
        query = query.where(Area.name_folded.like(f"%{fold(q)}%"))
    rows = await query.order_by(Area.depth).order_by(Area.name_folded).limit(limit)
    return AreaList(items=[to_schema(r) for r in rows])


def vietnam_records() -> list[AreaRecord]:
    """Nation, 34 provinces and 3,321 communes from the ``vietnam-provinces`` package (2025 structure).

    Official codes are zero-padded (provinces 2 digits, communes 5), as in the national register."""
    from vietnam_provinces import Province, Ward

    records = [AreaRecord(code=ROOT_CODE, name="Việt Nam", level="nation", parent_code=None)]
    for p in Province.iter_all():
        records.append(
            AreaRecord(
                code=f"{p.code.value:02d}",
                name=nfc(p.name),
                level="province",
                parent_code=ROOT_CODE,
                division_type=p.division_type.value,
            )
        )
    for w in Ward.iter_all():
        records.append(
            AreaRecord(
                code=f"{w.code.value:05d}",
                name=nfc(w.name),
                level="commune",
                parent_code=f"{w.province_code.value:02d}",
                division_type=w.division_type.value,
            )
        )
    return records


def parse_csv(text: str) -> list[AreaRecord]:
    """``code,name,parent_code,level`` with a header row; every bad row is reported, none applied."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    expected = {"code", "name", "parent_code", "level"}
    if reader.fieldnames is None or not expected.issubset({f.strip() for f in reader.fieldnames}):
        raise ValidationFailed(
            [{"field": "header", "reason": "expected columns code,name,parent_code,level"}]
        )
    errors: list[dict[str, str]] = []
    records: list[AreaRecord] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        name = nfc((row.get("name") or "").strip())
        parent = (row.get("parent_code") or "").strip() or None
        level = (row.get("level") or "").strip()
        if not code or len(code) > 32 or "/" in code:
            errors.append({"field": f"line {line}.code", "reason": "required, ≤ 32 characters, no '/'"})
        if not name or len(name) > 255:
            errors.append({"field": f"line {line}.name", "reason": "required, ≤ 255 characters"})
        if level not in LEVELS:
            errors.append({"field": f"line {line}.level", "reason": f"one of {', '.join(LEVELS)}"})
        if code in seen:
            errors.append({"field": f"line {line}.code", "reason": f"code {code} appears twice"})
        if parent is None and code != ROOT_CODE:
            errors.append({"field": f"line {line}.parent_code", "reason": "required except for the root"})
        seen.add(code)
        records.append(AreaRecord(code=code, name=name, level=level, parent_code=parent))
    if errors:
        raise ValidationFailed(errors)
    if not records:
        raise ValidationFailed([{"field": "body", "reason": "no rows"}])
    return records


async def import_records(rt: Runtime, records: list[AreaRecord], actor_id: Any = None) -> ImportResult:
    """Insert or update areas; parents may come later in the list or already be stored.

    Runs in the caller's transaction (the controller opens one) so a bad file changes nothing."""
    existing = {r["code"]: r for r in await Area.select()}
    incoming = {r.code: r for r in records}
    paths: dict[str, str] = {code: row["path"] for code, row in existing.items()}

    def resolve(code: str, trail: tuple[str, ...] = ()) -> str:
        if code in incoming:
            rec = incoming[code]
            if code in trail:
                raise ValidationFailed([{"field": "parent_code", "reason": f"cycle through {code}"}])
            if rec.parent_code is None:
                return f"/{code}/"
            if rec.parent_code not in incoming and rec.parent_code not in existing:
                raise ValidationFailed(
                    [{"field": "parent_code", "reason": f"unknown parent {rec.parent_code} of {code}"}]
                )
            return resolve(rec.parent_code, (*trail, code)) + f"{code}/"
        return paths[code]

    new_paths = {code: resolve(code) for code in incoming}
    created = updated = unchanged = 0
    now = rt.clock.now()
    to_insert: list[Area] = []
    changes: list[Change] = []
    for code, rec in incoming.items():
        path = new_paths[code]
        depth = path.strip("/").count("/")
        old = existing.get(code)
        values = {
            "name": rec.name,
            "name_folded": fold(rec.name),
            "level": rec.level,
            "division_type": rec.division_type,
            "parent_code": rec.parent_code,
            "path": path,
            "depth": depth,
        }
        if old is None:
            to_insert.append(Area(code=code, updated_at=now, **values))
            created += 1
        elif any(old[k] != v for k, v in values.items()):
            if old["path"] != path:
                await _move_subtree(rt, old["path"], path)
            await Area.update(
                {getattr(Area, k): v for k, v in values.items()} | {Area.updated_at: now}
            ).where(Area.code == code)
            updated += 1
        else:
            unchanged += 1
            continue
        changes.append(Change(table="area", row_id=code, op="upsert", area_paths=(path,)))
    for start in range(0, len(to_insert), 500):
        await Area.insert(*to_insert[start : start + 500])
    await record_changes(rt, changes, actor_id)
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


async def _move_subtree(rt: Runtime, old_path: str, new_path: str) -> None:
    await rt.db.execute(
        'UPDATE "area" SET "path" = {} || substr("path", {}), "depth" = "depth" + {} WHERE "path" LIKE {}',
        new_path,
        len(old_path) + 1,
        new_path.count("/") - old_path.count("/"),
        f"{old_path}_%",
    )


async def import_file(rt: Runtime, actor: Any, text: str) -> ImportResult:
    """Admin import of a CSV tree (villages, or an older district-level structure); audited."""
    from backend.core.accounts.permissions import Permission
    from backend.core.audit import services as audit

    grant = actor.require(Permission.AREA_MANAGE)
    records = parse_csv(text)
    async with rt.db.transaction():
        result = await import_records(rt, records, actor.account_id)
        await audit.record(
            rt,
            actor,
            "area.import",
            target_type="area",
            grant=grant,
            details={"rows": len(records), "created": result.created, "updated": result.updated},
        )
    return result


async def import_vietnam(rt: Runtime, actor_id: Any = None) -> ImportResult:
    async with rt.db.transaction():
        return await import_records(rt, vietnam_records(), actor_id)
