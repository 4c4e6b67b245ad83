"""Statistics for staff: the dashboard and the yearly grassroots-information report.

The figure builders are exported for other domains that report the same numbers elsewhere (the
upstream link sends them to the central system)."""

from backend.officials.reports.devices import device_figures
from backend.officials.reports.services import feedback_figures, notice_figures, vn_midnight

__all__ = ["device_figures", "feedback_figures", "notice_figures", "vn_midnight"]
