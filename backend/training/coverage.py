"""Training coverage: how many officials of an area subtree have studied the required materials.

The plans count "100% of officials trained". Here an *official* is an active staff account holding a
role that studies the library (commune officials and leaders) on an area inside the subtree; they
count in the row of the commune of each such grant (or of the granted area itself when it lies above
the communes) and once in the subtree's total. A *required* material is a published material marked
required; it reaches an official when the material's area contains the official's area, or lies
inside it — exactly the materials the official's phone shows. An official has *completed* a material
with a mark of a version numbered at least the material's ``completion_from`` (a version published with
``retrain`` starts the count afresh), and is *trained* when every required material reaching them is
completed. Shares are percentages with one decimal; none when nobody is counted.

Everything is recomputed from the tables on each request (nothing cached to drift)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from backend.core.accounts.permissions import ROLE_PERMISSIONS, Actor, Permission, within
from backend.core.accounts.tables import Account, RoleGrant
from backend.core.areas.tables import Area
from backend.core.audit import services as audit
from backend.lib.errors import Forbidden, NotFound
from backend.officials.feedback.export import guarded
from backend.runtime import Runtime
from backend.sync import like_prefix
from backend.training.schemas import CoverageMaterial, CoverageOut, CoverageRow, MaterialFigure
from backend.training.tables import TrainingCompletion, TrainingMaterial, TrainingVersion

CHUNK = 500
STUDY_ROLES = sorted(r.value for r, perms in ROLE_PERMISSIONS.items() if Permission.TRAINING_STUDY in perms)
CSV_HEADER = [
    "area_code",
    "area_name",
    "level",
    "officials",
    "material",
    "title",
    "eligible",
    "completed",
    "share_percent",
]
ALL_REQUIRED = "Tất cả tài liệu bắt buộc"


def share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def reaches(material_path: str, official_paths: Iterable[str]) -> bool:
    return any(within(p, material_path) or within(material_path, p) for p in official_paths)


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def default_area(actor: Actor, province_code: str) -> str:
    for grant in actor.grants_with(Permission.TRAINING_REPORT):
        return grant.area_code
    return province_code


async def coverage(rt: Runtime, actor: Actor, area_code: str | None, fmt: str = "json") -> CoverageOut:
    if not actor.grants_with(Permission.TRAINING_REPORT):
        raise Forbidden(details={"permission": Permission.TRAINING_REPORT.value})
    code = area_code or default_area(actor, rt.settings.province_code)
    area = await Area.select(Area.code, Area.name, Area.level, Area.path).where(Area.code == code).first()
    if area is None:
        raise NotFound("area", details={"area": code})
    grant = actor.require(Permission.TRAINING_REPORT, [area["path"]])
    root = area["path"]

    subtree = {
        a["path"]: a
        for a in await Area.select(Area.code, Area.name, Area.level, Area.path).where(
            Area.path.like(like_prefix(root))
        )
    }
    grants = await RoleGrant.select(RoleGrant.account, RoleGrant.area.path.as_alias("path")).where(
        RoleGrant.role.is_in(STUDY_ROLES) & RoleGrant.area.path.like(like_prefix(root))
    )
    active: set[Any] = set()
    for ids in _chunks(sorted({g["account"] for g in grants}, key=str)):
        active.update(
            r["id"]
            for r in await Account.select(Account.id).where(
                Account.id.is_in(ids) & (Account.active == True) & (Account.kind == "staff")  # noqa: E712
            )
        )
    paths_of: dict[Any, set[str]] = defaultdict(set)
    for g in grants:
        if g["account"] in active:
            paths_of[g["account"]].add(g["path"])

    def row_area(path: str) -> str:
        """The commune an official's grant lies in (the granted area itself above the communes)."""
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), 0, -1):
            candidate = "/" + "/".join(parts[:depth]) + "/"
            if candidate not in subtree:
                break
            if subtree[candidate]["level"] == "commune":
                return candidate
        return path

    members: dict[str, set[Any]] = defaultdict(set)
    for account, paths in paths_of.items():
        for path in paths:
            members[row_area(path)].add(account)

    materials = [
        m
        for m in await TrainingMaterial.select().where(
            (TrainingMaterial.status == "published")
            & (TrainingMaterial.required == True)  # noqa: E712
            & TrainingMaterial.current_version.is_not_null()
        )
        if within(m["area_path"], root) or within(root, m["area_path"])
    ]
    materials.sort(key=lambda m: (m["area_path"], str(m["id"])))
    versions = {}
    for ids in _chunks([m["current_version"] for m in materials]):
        for v in await TrainingVersion.select(
            TrainingVersion.id, TrainingVersion.title, TrainingVersion.number
        ).where(TrainingVersion.id.is_in(ids)):
            versions[v["id"]] = v
    counts_from = {m["id"]: m["completion_from"] for m in materials}
    done: set[tuple[Any, Any]] = set()
    for ids in _chunks([m["id"] for m in materials]):
        for c in await TrainingCompletion.select(
            TrainingCompletion.account, TrainingCompletion.material, TrainingCompletion.number
        ).where(TrainingCompletion.material.is_in(ids)):
            if c["account"] in paths_of and c["number"] >= counts_from[c["material"]]:
                done.add((c["account"], c["material"]))

    eligible = {
        (a, m["id"]) for a, paths in paths_of.items() for m in materials if reaches(m["area_path"], paths)
    }

    def figures(row_path: str, accounts: set[Any]) -> CoverageRow:
        place = subtree[row_path]
        per_material = []
        for m in materials:
            reached = [a for a in accounts if (a, m["id"]) in eligible]
            completed = sum(1 for a in reached if (a, m["id"]) in done)
            per_material.append(
                MaterialFigure(
                    material=m["id"],
                    eligible=len(reached),
                    completed=completed,
                    share=share(completed, len(reached)),
                )
            )
        trained = sum(
            1 for a in accounts if all((a, m["id"]) in done for m in materials if (a, m["id"]) in eligible)
        )
        return CoverageRow(
            area_code=place["code"],
            area_name=place["name"],
            level=place["level"],
            officials=len(accounts),
            trained=trained,
            share=share(trained, len(accounts)),
            materials=per_material,
        )

    out = CoverageOut(
        area_code=area["code"],
        area_name=area["name"],
        generated_at=rt.clock.now(),
        materials=[
            CoverageMaterial(
                id=m["id"],
                title=versions[m["current_version"]]["title"],
                topic=m["topic"],
                level=m["level"],
                area_code=m["area_code"],
                number=versions[m["current_version"]]["number"],
                completion_from=m["completion_from"],
            )
            for m in materials
        ],
        total=figures(root, set(paths_of)),
        areas=[figures(path, members[path]) for path in sorted(members)],
    )
    async with rt.db.transaction():
        await audit.record(
            rt,
            actor,
            "training.coverage_view",
            target_type="area",
            target_id=area["code"],
            grant=grant,
            details={"format": fmt},
        )
    return out


def to_csv(report: CoverageOut) -> str:
    """One line per area and figure: first "all required materials" (material ``*``), then each
    required material. The subtree's total comes first. UTF-8 with a byte-order mark so spreadsheet
    programs keep the diacritics."""
    titles = {m.id: m.title for m in report.materials}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    for row in [report.total, *report.areas]:
        head = [row.area_code, guarded(row.area_name), row.level, row.officials]
        writer.writerow([*head, "*", ALL_REQUIRED, row.officials, row.trained, cell(row.share)])
        for f in row.materials:
            writer.writerow(
                [*head, str(f.material), guarded(titles[f.material]), f.eligible, f.completed, cell(f.share)]
            )
    return "\ufeff" + out.getvalue()
