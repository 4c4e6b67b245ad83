"""Placing programme items into sessions — pure functions, no I/O, so a week of the whole country
compiles in one process quickly (``bench/bench_broadcast.py``).

Rules applied (REFERENCE §1):

- A session's programme never exceeds the station's maximum (15 minutes urban, 45 rural, relays
  included) nor the session's own length; intro and outro count too.
- Order inside a session: intro, priority notices (in the commune's order), normal notices the
  commune chose, officials' recordings, answers to citizen feedback, relays, outro.
- Items are placed in that order of rank, each into the earliest sessions of its groups that start
  inside its validity and still have room, as many sessions as its ``plays``. An item that does not
  fit the first session it could have played in is *moved* to a later one (and the official is
  told); an item that finds no session before it expires is *unplaced* (flagged)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from backend.broadcast.stations.rules import VN_TZ, minutes

KIND_ORDER = {"intro": 0, "priority": 1, "normal": 2, "recording": 3, "answer": 4, "relay": 5, "outro": 6}


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: str  # priority | normal | recording | answer | relay
    title: str
    duration_ms: int
    rank: int = 0
    plays: int = 1
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    group_ids: frozenset[uuid.UUID] | None = None  # None: every group of the station
    notice_id: str | None = None
    thread_id: str | None = None
    version: int | None = None
    media_key: str = ""
    relay_url: str = ""
    schedule_sessions: frozenset[str] | None = None  # None: any session; relays name theirs


@dataclass(frozen=True)
class Slot:
    id: uuid.UUID
    group_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    capacity_ms: int
    schedule_session: str = ""


@dataclass
class Placed:
    key: str
    kind: str
    title: str
    offset_ms: int
    duration_ms: int
    candidate: Candidate | None = None


@dataclass
class SessionPlan:
    slot: Slot
    items: list[Placed] = field(default_factory=list)
    used_ms: int = 0


@dataclass(frozen=True)
class Moved:
    key: str
    title: str
    group_id: uuid.UUID
    wanted: datetime
    placed: datetime


@dataclass(frozen=True)
class Unplaced:
    key: str
    title: str
    group_id: uuid.UUID | None
    reason: str  # too_long | no_room_before_expiry | no_session_before_expiry
    valid_until: datetime | None


@dataclass
class Plan:
    sessions: list[SessionPlan]
    moved: list[Moved]
    unplaced: list[Unplaced]


@dataclass(frozen=True)
class WeekSession:
    """One line of a station's week schedule."""

    id: str
    day: int
    start: str
    end: str
    group_ids: tuple[uuid.UUID, ...] = ()
    relays: tuple[str, ...] = ()


def slots_for(
    sessions: Iterable[WeekSession],
    groups: Sequence[uuid.UUID],
    first_day: date,
    days: int,
    max_minutes: int,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Concrete sessions of each group for ``days`` days from ``first_day`` (Vietnam dates)."""
    out: list[Slot] = []
    week = list(sessions)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for s in week:
            if s.day != day.weekday():
                continue
            midnight = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
            starts = midnight + timedelta(minutes=minutes(s.start))
            ends = midnight + timedelta(minutes=minutes(s.end))
            if not_before is not None and starts < not_before:
                continue
            capacity = min(int((ends - starts).total_seconds() * 1000), max_minutes * 60_000)
            for group in s.group_ids or groups:
                if group not in groups:
                    continue
                out.append(
                    Slot(
                        id=uuid.uuid5(group, f"{starts.isoformat()}"),
                        group_id=group,
                        starts_at=starts,
                        ends_at=ends,
                        capacity_ms=capacity,
                        schedule_session=s.id,
                    )
                )
    out.sort(key=lambda slot: (slot.starts_at, str(slot.group_id)))
    return out


def _order(c: Candidate) -> tuple[int, int, str]:
    return (KIND_ORDER.get(c.kind, 9), c.rank, c.key)


def compile_plan(
    slots: Sequence[Slot],
    candidates: Iterable[Candidate],
    *,
    intro_ms: int = 0,
    outro_ms: int = 0,
    pause_ms: int = 0,
) -> Plan:
    by_group: dict[uuid.UUID, list[SessionPlan]] = {}
    plans: list[SessionPlan] = []
    overhead = intro_ms + outro_ms + (pause_ms if outro_ms else 0)
    for slot in slots:
        plan = SessionPlan(slot=slot, used_ms=overhead)
        by_group.setdefault(slot.group_id, []).append(plan)
        plans.append(plan)
    moved: list[Moved] = []
    unplaced: list[Unplaced] = []
    for c in sorted(candidates, key=_order):
        groups = by_group.keys() if c.group_ids is None else [g for g in by_group if g in c.group_ids]
        for group in groups:
            _place(c, group, by_group[group], pause_ms, overhead, moved, unplaced)
    for plan in plans:
        _lay_out(plan, intro_ms, outro_ms, pause_ms)
    return Plan(sessions=plans, moved=moved, unplaced=unplaced)


def _place(
    c: Candidate,
    group: uuid.UUID,
    sessions: list[SessionPlan],
    pause_ms: int,
    overhead: int,
    moved: list[Moved],
    unplaced: list[Unplaced],
) -> None:
    eligible = [
        s
        for s in sessions
        if (c.valid_from is None or s.slot.starts_at >= c.valid_from)
        and (c.valid_until is None or s.slot.ends_at <= c.valid_until)
        and (c.schedule_sessions is None or s.slot.schedule_session in c.schedule_sessions)
    ]
    if not eligible:
        unplaced.append(Unplaced(c.key, c.title, group, "no_session_before_expiry", c.valid_until))
        return
    if all(overhead + pause_ms + c.duration_ms > s.slot.capacity_ms for s in eligible):
        unplaced.append(Unplaced(c.key, c.title, group, "too_long", c.valid_until))
        return
    placed = 0
    wanted = eligible[0]
    for s in eligible:
        if placed >= c.plays:
            break
        if s.used_ms + pause_ms + c.duration_ms > s.slot.capacity_ms:
            continue
        s.items.append(Placed(c.key, c.kind, c.title, 0, c.duration_ms, c))
        s.used_ms += pause_ms + c.duration_ms
        if placed == 0 and s is not wanted:
            moved.append(Moved(c.key, c.title, group, wanted.slot.starts_at, s.slot.starts_at))
        placed += 1
    if placed == 0:
        unplaced.append(Unplaced(c.key, c.title, group, "no_room_before_expiry", c.valid_until))


def _lay_out(plan: SessionPlan, intro_ms: int, outro_ms: int, pause_ms: int) -> None:
    """Give every item its offset: intro, items with pauses between, outro."""
    if not plan.items:
        plan.used_ms = 0
        return
    items = sorted(
        plan.items, key=lambda p: (KIND_ORDER.get(p.kind, 9), p.candidate.rank if p.candidate else 0)
    )
    laid: list[Placed] = []
    offset = 0
    if intro_ms:
        laid.append(Placed("intro", "intro", "", 0, intro_ms))
        offset = intro_ms
    for item in items:
        offset += pause_ms
        item.offset_ms = offset
        laid.append(item)
        offset += item.duration_ms
    if outro_ms:
        offset += pause_ms
        laid.append(Placed("outro", "outro", "", offset, outro_ms))
        offset += outro_ms
    plan.items = laid
    plan.used_ms = offset
