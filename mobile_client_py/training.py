"""The training library on the phone: the synced catalogue, its files kept for offline study, and
"studied" marks made offline that sync back.

The catalogue is the ``training_material`` rows sync delivered (the current version of each material
aimed at the official's areas). A file is downloaded once per sha256 and resumes after a cut. Marking
a material studied creates a ``training_completion`` row for its current version; marking it again is
a no-op on the phone, and the server keeps only the first mark of a version, with its time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mobile_client_py.downloads import BlobDownloads, DownloadReport
from mobile_client_py.offline import OfflineOfficial

MATERIALS = "training_material"
COMPLETIONS = "training_completion"


class TrainingShelf:
    def __init__(self, official: OfflineOfficial, folder: Path, piece: int | None = None) -> None:
        self.official = official
        self.downloads = BlobDownloads(official, folder, **({"piece": piece} if piece else {}))

    def marks(self) -> dict[str, dict[str, Any]]:
        """The official's marks (synced and not yet synced), by version id."""
        return {
            row["version"]: {"id": row_id, **row} for row_id, row in self.official.rows(COMPLETIONS).items()
        }

    def catalogue(self) -> list[dict[str, Any]]:
        marks = self.marks()
        items = []
        for material_id, row in self.official.rows(MATERIALS).items():
            studied = [
                m
                for m in marks.values()
                if m.get("material") == material_id or m["version"] == row["version"]
            ]
            counted = any(
                int(m.get("number") or row["number"]) >= int(row.get("counts_from") or 1) for m in studied
            )
            items.append(
                {
                    "id": material_id,
                    **row,
                    "downloaded": self.downloads.has(row["sha256"]),
                    "studied_current": row["version"] in marks,
                    "counted": counted,
                }
            )
        return sorted(items, key=lambda r: (r.get("topic", ""), r.get("level", ""), r.get("title", "")))

    def material(self, material_id: str) -> dict[str, Any]:
        row = self.official.rows(MATERIALS).get(material_id)
        if row is None:
            raise KeyError(f"training material {material_id} is not on this phone")
        return row

    async def download(self, material_id: str) -> DownloadReport:
        row = self.material(material_id)
        return await self.downloads.fetch(row["sha256"], int(row["size"]), row.get("url"))

    def file(self, material_id: str) -> Path | None:
        row = self.material(material_id)
        path = self.downloads.path(row["sha256"])
        return path if path.exists() else None

    def mark_studied(self, material_id: str, when: datetime | None = None) -> str:
        """Mark the material's current version studied (offline); returns the mark's id."""
        row = self.material(material_id)
        existing = self.marks().get(row["version"])
        if existing is not None:
            return str(existing["id"])
        moment = (when or datetime.now(UTC)).isoformat()
        return self.official.create(COMPLETIONS, {"version": row["version"], "completed_at": moment})
