"""Which unit handles a report: routing rules (category × area subtree → unit) are data.

The rule on the deepest area containing the report wins; on the same area a rule naming the
report's category beats one for any category. A report no rule covers goes to the triage queue —
it is never dropped. A report with only coordinates counts as lying in the province."""

from __future__ import annotations

import uuid
from typing import Any

from backend.core.areas.services import ROOT_PATH
from backend.officials.feedback.tables import HandlingUnit, RoutingRule
from backend.runtime import Runtime


def effective_path(rt: Runtime, row: dict[str, Any]) -> str:
    return row["area_path"] or f"{ROOT_PATH}{rt.settings.province_code}/"


def pick(rules: list[dict[str, Any]], category: str, path: str) -> dict[str, Any] | None:
    matching = [r for r in rules if path.startswith(r["area_path"]) and r["category"] in ("", category)]
    if not matching:
        return None
    return max(matching, key=lambda r: (len(r["area_path"]), r["category"] != ""))


async def route(category: str, path: str) -> uuid.UUID | None:
    """The unit for a report, or None for the triage queue."""
    rules = await RoutingRule.select(
        RoutingRule.category, RoutingRule.area_path, RoutingRule.unit, RoutingRule.unit.active
    )
    chosen = pick([r for r in rules if r["unit.active"]], category, path)
    return chosen["unit"] if chosen else None


async def unit_exists(unit_id: uuid.UUID) -> bool:
    return await HandlingUnit.exists().where(HandlingUnit.id == unit_id)
