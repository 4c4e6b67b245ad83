"""The coverage report against figures rebuilt independently from the database with plain SQL, over
random officials, grants and completions; the CSV says the same as the JSON."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.core.audit.tables import AuditEntry
from backend.training.tables import TrainingCompletion
from tests.training.helpers import material, pdf, publish, topic, upload

AREAS = ["38001", "38001-01", "38001-02", "38002", "38002-01", "40001"]


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


async def rebuild(rt: Any, root: str) -> dict[str, Any]:
    """The report's figures, computed another way: SQL joins, and the commune of a grant taken as
    the third segment of its path (the test tree is nation / province / commune / village)."""
    grants = await rt.db.fetch(
        'SELECT g."account" AS "account", a."path" AS "path" FROM "role_grant" g '
        'JOIN "area" a ON a."code" = g."area" JOIN "account" c ON c."id" = g."account" '
        "WHERE g.\"role\" IN ('commune_official', 'commune_leader') AND c.\"active\" = {} "
        'AND c."kind" = \'staff\' AND a."path" LIKE {}',
        True,
        root + "%",
    )
    materials = [
        m
        for m in await rt.db.fetch(
            'SELECT "id", "area_path", "completion_from" FROM "training_material" '
            'WHERE "status" = \'published\' AND "required" = {} AND "current_version" IS NOT NULL',
            True,
        )
        if m["area_path"].startswith(root) or root.startswith(m["area_path"])
    ]
    best = {
        (str(r["account"]), str(r["material"])): int(r["n"])
        for r in await rt.db.fetch(
            'SELECT "account", "material", MAX("number") AS "n" FROM "training_completion" '
            'GROUP BY "account", "material"'
        )
    }
    paths: dict[str, set[str]] = defaultdict(set)
    communes: dict[str, set[str]] = defaultdict(set)
    for g in grants:
        paths[str(g["account"])].add(g["path"])
        parts = g["path"].strip("/").split("/")
        communes[parts[2] if len(parts) >= 3 else parts[-1]].add(str(g["account"]))

    def figures(accounts: set[str]) -> dict[str, Any]:
        per = {}
        trained = 0
        for m in materials:
            mid = str(m["id"])
            reached = [
                a
                for a in accounts
                if any(p.startswith(m["area_path"]) or m["area_path"].startswith(p) for p in paths[a])
            ]
            done = [a for a in reached if best.get((a, mid), 0) >= m["completion_from"]]
            per[mid] = (len(reached), len(done), pct(len(done), len(reached)))
        for a in accounts:
            if all(
                best.get((a, str(m["id"])), 0) >= m["completion_from"]
                for m in materials
                if any(p.startswith(m["area_path"]) or m["area_path"].startswith(p) for p in paths[a])
            ):
                trained += 1
        return {
            "officials": len(accounts),
            "trained": trained,
            "share": pct(trained, len(accounts)),
            "per": per,
        }

    return {
        "materials": sorted(str(m["id"]) for m in materials),
        "total": figures(set(paths)),
        "areas": {code: figures(accounts) for code, accounts in communes.items()},
    }


def as_rebuilt(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "officials": row["officials"],
        "trained": row["trained"],
        "share": row["share"],
        "per": {f["material"]: (f["eligible"], f["completed"], f["share"]) for f in row["materials"]},
    }


@pytest.mark.parametrize("seed", [1, 2])
async def test_report_matches_figures_rebuilt_from_the_database(client, factory, tmp_path, seed):
    rng = random.Random(seed)
    rt = client.app.state.rt
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"), (Role.PROVINCE_EDITOR, "40"))
    await topic(client, editor)

    async def published(name: str, area: str, **fields: Any) -> dict[str, Any]:
        sha = await upload(client, editor, tmp_path, pdf(2048, seed=hash(name) % 1000), name)
        return await publish(client, editor, (await material(client, editor, sha, area=area, **fields))["id"])

    province = await published("p.pdf", "38")
    commune = await published("c.pdf", "38001")
    village = await published("v.pdf", "38001-01")
    elsewhere = await published("e.pdf", "40")
    optional = await published("o.pdf", "38", required=False)
    draft = await material(client, editor, await upload(client, editor, tmp_path, pdf(999), "d.pdf"))
    gone = await published("g.pdf", "38")
    await client.post(f"/api/v1/training/materials/{gone['id']}/withdraw", json={}, headers=editor.headers)
    redone = await published("r1.pdf", "38002")
    sha = await upload(client, editor, tmp_path, pdf(3000, seed=77), "r2.pdf")
    answer = await client.post(
        f"/api/v1/training/materials/{redone['id']}/versions",
        json={"sha256": sha, "retrain": True},
        headers=editor.headers,
    )
    assert answer.status_code == 201
    redone = await publish(client, editor, redone["id"])
    assert redone["completion_from"] == 2

    officials = []
    for _ in range(16):
        role = rng.choice([Role.COMMUNE_OFFICIAL, Role.COMMUNE_LEADER])
        grants = [(role, rng.choice(AREAS))]
        second = (Role.COMMUNE_OFFICIAL, rng.choice(AREAS))
        if rng.random() < 0.25 and second not in grants:
            grants.append(second)
        user = await factory.user(*grants)
        officials.append(user)
        if rng.random() < 0.15:
            await Account.update({Account.active: False}).where(Account.id == user.id)
    await factory.user((Role.FEEDBACK_HANDLER, "38001"))  # staff, but not an official who studies
    await factory.user((Role.PROVINCE_APPROVER, "38"))

    versions = {
        m["id"]: [(v["id"], v["number"]) for v in m["versions"] if v["status"] != "draft"]
        for m in (province, commune, village, elsewhere, optional, gone, redone)
    }
    now = datetime.now(UTC)
    for user in officials:
        for material_id, published_versions in versions.items():
            if rng.random() < 0.55:
                version_id, number = rng.choice(published_versions)
                await TrainingCompletion.insert(
                    TrainingCompletion(
                        id=uuid.uuid4(),
                        account=user.id,
                        material=uuid.UUID(material_id),
                        version=uuid.UUID(version_id),
                        number=number,
                        area_path="/VN/38/",
                        completed_at=now,
                        recorded_at=now,
                    )
                )

    for root_code, root_path in (("38", "/VN/38/"), ("38001", "/VN/38/38001/"), ("VN", "/VN/")):
        answer = await client.get(
            "/api/v1/training/coverage", params={"area": root_code}, headers=editor.headers
        )
        if root_code == "VN":
            assert answer.status_code == 403  # outside the editor's provinces
            continue
        assert answer.status_code == 200, answer.text
        report = answer.json()
        expected = await rebuild(rt, root_path)
        assert sorted(m["id"] for m in report["materials"]) == expected["materials"]
        assert draft["id"] not in expected["materials"] and optional["id"] not in expected["materials"]
        assert gone["id"] not in expected["materials"]
        assert (elsewhere["id"] in expected["materials"]) is False
        assert as_rebuilt(report["total"]) == expected["total"]
        assert {r["area_code"]: as_rebuilt(r) for r in report["areas"]} == expected["areas"]
        assert report["total"]["officials"] > 0

        exported = await client.get(
            "/api/v1/training/coverage.csv", params={"area": root_code}, headers=editor.headers
        )
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        text = exported.content.decode("utf-8")
        assert text.startswith("\ufeff")
        lines = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        rows = [report["total"], *report["areas"]]
        assert len(lines) == len(rows) * (1 + len(report["materials"]))
        for line in lines:
            row = next(r for r in rows if r["area_code"] == line["area_code"])
            assert int(line["officials"]) == row["officials"]
            if line["material"] == "*":
                assert line["title"] == "Tất cả tài liệu bắt buộc"
                assert (int(line["eligible"]), int(line["completed"])) == (row["officials"], row["trained"])
                figure_share = row["share"]
            else:
                figure = next(f for f in row["materials"] if f["material"] == line["material"])
                assert (int(line["eligible"]), int(line["completed"])) == (
                    figure["eligible"],
                    figure["completed"],
                )
                figure_share = figure["share"]
            assert line["share_percent"] == ("" if figure_share is None else f"{figure_share:.1f}")
    views = await AuditEntry.select(AuditEntry.details).where(AuditEntry.action == "training.coverage_view")
    assert len(views) == 4


async def test_who_may_read_coverage(client, factory, tmp_path):
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    own = await client.get("/api/v1/training/coverage", headers=leader.headers)
    assert own.status_code == 200 and own.json()["area_code"] == "38001"
    assert own.json()["total"] == {
        "area_code": "38001",
        "area_name": "Xã Hoằng Hóa",
        "level": "commune",
        "officials": 2,
        "trained": 2,
        "share": 100.0,
        "materials": [],
    }
    other = await client.get("/api/v1/training/coverage?area=38002", headers=leader.headers)
    assert other.status_code == 403 and other.json()["error"]["code"] == "out_of_area"
    assert (await client.get("/api/v1/training/coverage", headers=official.headers)).status_code == 403
    missing = await client.get("/api/v1/training/coverage?area=99", headers=leader.headers)
    assert missing.status_code == 404
