"""Local broadcast rules as pure functions: clock times, windows, quiet hours, days, maxima.

Times of day are minutes after midnight in Vietnam time (UTC+7, no daylight saving). A window whose
end is not after its start runs past midnight (quiet hours 21:00–05:00)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import timedelta, timezone

from backend.broadcast.stations.schemas import MAX_MINUTES, StationRules, Window

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
DAY = 24 * 60
WEEKEND = (5, 6)


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def spans(window: Window) -> list[tuple[int, int]]:
    """The window as half-open minute ranges within one day (two when it crosses midnight)."""
    start, end = minutes(window.start), minutes(window.end)
    if end > start:
        return [(start, end)]
    return [(start, DAY), (0, end)] if end > 0 else [(start, DAY)]


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def inside(inner: tuple[int, int], windows: Iterable[Window]) -> bool:
    return any(s <= inner[0] and inner[1] <= e for w in windows for s, e in spans(w))


def in_quiet_hours(span: tuple[int, int], quiet: Iterable[Window]) -> bool:
    return any(overlaps(span, q) for w in quiet for q in spans(w))


def max_minutes(rules: StationRules, setting: str) -> int:
    return rules.max_minutes if rules.max_minutes is not None else MAX_MINUTES.get(setting, 45)


def day_allowed(rules: StationRules, day: int) -> bool:
    return day in rules.days and (day not in WEEKEND or rules.weekend_allowed)


def rule_errors(rules: StationRules) -> list[dict[str, str]]:
    """What makes a set of rules unusable (each as ``{"field", "reason"}``)."""
    errors: list[dict[str, str]] = []
    for i, window in enumerate(rules.windows):
        if minutes(window.end) <= minutes(window.start):
            errors.append(
                {"field": f"rules.windows[{i}]", "reason": "a session window must end after it starts"}
            )
        elif in_quiet_hours(spans(window)[0], rules.quiet_hours):
            errors.append({"field": f"rules.windows[{i}]", "reason": "overlaps the quiet hours"})
    ranges = sorted(s for w in rules.windows if minutes(w.end) > minutes(w.start) for s in spans(w))
    for a, b in itertools.pairwise(ranges):
        if overlaps(a, b):
            errors.append({"field": "rules.windows", "reason": "windows overlap each other"})
            break
    weekend = sorted(set(rules.days) & set(WEEKEND))
    if weekend and not rules.weekend_allowed:
        errors.append(
            {"field": "rules.days", "reason": "weekend days need weekend_allowed (special cases only)"}
        )
    if len(set(rules.days)) != len(rules.days):
        errors.append({"field": "rules.days", "reason": "a day is listed twice"})
    names = [r.name for r in rules.relays]
    if len(set(names)) != len(names):
        errors.append({"field": "rules.relays", "reason": "relay names must be unique"})
    for i, part in enumerate(rules.dayparts):
        if minutes(part.end) <= minutes(part.start):
            errors.append({"field": f"rules.dayparts[{i}]", "reason": "a daypart must end after it starts"})
    return errors
