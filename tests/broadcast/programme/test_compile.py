"""Placing items into sessions: order, the session maximum, overflow to the next session, items
that cannot be placed before they expire, relays only in their sessions, windows and days."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from backend.broadcast.programme.compile import Candidate, WeekSession, compile_plan, slots_for
from backend.broadcast.stations.rules import VN_TZ

G1, G2 = uuid.UUID(int=1), uuid.UUID(int=2)
MONDAY = date(2026, 3, 2)
WEEK = [
    WeekSession(id="am", day=d, start="05:30", end="06:15", relays=("VOV1",) if d == 0 else ())
    for d in range(5)
] + [WeekSession(id="pm", day=d, start="17:00", end="17:45", group_ids=(G2,)) for d in range(5)]
MIN = 60_000


def at(day: int, hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return datetime(2026, 3, 2 + day, int(h), int(m), tzinfo=VN_TZ)


def test_slots_follow_days_windows_groups_and_the_maximum():
    slots = slots_for(WEEK, [G1, G2], MONDAY, 7, max_minutes=15)
    assert len(slots) == 5 * 2 + 5  # mornings for both groups, afternoons for G2 only, no weekend
    first = slots[0]
    assert first.starts_at == at(0, "05:30") and first.capacity_ms == 15 * MIN  # 45-minute window, 15 allowed
    assert {s.starts_at.weekday() for s in slots} == {0, 1, 2, 3, 4}
    later = slots_for(WEEK, [G1, G2], MONDAY, 7, max_minutes=15, not_before=at(0, "06:00"))
    assert later[0].starts_at == at(0, "17:00")
    # Slot ids are stable: recompiling names the same sessions.
    assert [s.id for s in slots] == [s.id for s in slots_for(WEEK, [G1, G2], MONDAY, 7, max_minutes=15)]


def test_priority_first_in_commune_order_then_normal_then_recordings_and_answers():
    slots = slots_for(WEEK, [G1], MONDAY, 1, max_minutes=45)
    plan = compile_plan(
        slots,
        [
            Candidate("answer", "answer", "Trả lời", 1 * MIN),
            Candidate("normal", "normal", "Thường", 1 * MIN),
            Candidate("p2", "priority", "Ưu tiên 2", 1 * MIN, rank=2),
            Candidate("rec", "recording", "Ghi âm", 1 * MIN),
            Candidate("p1", "priority", "Ưu tiên 1", 1 * MIN, rank=1),
        ],
        intro_ms=10_000,
        outro_ms=10_000,
        pause_ms=1_000,
    )
    session = plan.sessions[0]
    assert [p.key for p in session.items] == ["intro", "p1", "p2", "normal", "rec", "answer", "outro"]
    offsets = [p.offset_ms for p in session.items]
    assert offsets == [0, 11_000, 72_000, 133_000, 194_000, 255_000, 316_000]
    assert session.used_ms == 326_000 == offsets[-1] + 10_000
    assert plan.moved == [] and plan.unplaced == []


def test_a_full_session_moves_items_to_the_next_and_says_so():
    slots = slots_for(WEEK, [G1], MONDAY, 2, max_minutes=15)
    items = [Candidate(f"p{i}", "priority", f"Tin {i}", 4 * MIN, rank=i) for i in range(5)]
    plan = compile_plan(slots, items, intro_ms=20_000, outro_ms=20_000, pause_ms=1_000)
    first, second = plan.sessions[0], plan.sessions[1]
    assert [p.key for p in first.items] == ["intro", "p0", "p1", "p2", "outro"]
    assert [p.key for p in second.items] == ["intro", "p3", "p4", "outro"]
    assert all(s.used_ms <= s.slot.capacity_ms for s in plan.sessions)
    assert [(m.key, m.wanted, m.placed) for m in plan.moved] == [
        ("p3", at(0, "05:30"), at(1, "05:30")),
        ("p4", at(0, "05:30"), at(1, "05:30")),
    ]


def test_items_that_cannot_play_before_they_expire_are_flagged():
    slots = slots_for(WEEK, [G1], MONDAY, 1, max_minutes=15)
    plan = compile_plan(
        slots,
        [
            Candidate("big", "priority", "Dài", 14 * MIN, rank=1),
            Candidate("late", "priority", "Hết chỗ", 5 * MIN, rank=2, valid_until=at(0, "07:00")),
            Candidate("gone", "normal", "Hết hạn", MIN, valid_until=at(0, "05:00")),
            Candidate("huge", "normal", "Quá dài", 20 * MIN),
        ],
    )
    reasons = {u.key: u.reason for u in plan.unplaced}
    assert reasons == {
        "late": "no_room_before_expiry",
        "gone": "no_session_before_expiry",
        "huge": "too_long",
    }
    assert [p.key for p in plan.sessions[0].items] == ["big"]


def test_relays_play_only_in_their_sessions_and_count_toward_the_maximum():
    slots = slots_for(WEEK, [G1, G2], MONDAY, 2, max_minutes=15)
    plan = compile_plan(
        slots,
        [
            Candidate(
                "relay:VOV1", "relay", "VOV1", 10 * MIN, plays=1000, schedule_sessions=frozenset({"am"})
            ),
            Candidate("p", "priority", "Tin", 6 * MIN, group_ids=frozenset({G1})),
        ],
    )
    monday_g1 = next(s for s in plan.sessions if s.slot.group_id == G1 and s.slot.starts_at == at(0, "05:30"))
    # The relay is ranked after local items, but the priority notice (6 min) + relay (10) > 15 min:
    assert [p.key for p in monday_g1.items] == ["p"]
    relay_sessions = {
        (s.slot.starts_at, s.slot.group_id) for s in plan.sessions if any(p.kind == "relay" for p in s.items)
    }
    assert all(start.hour == 5 for start, _ in relay_sessions)
    assert (at(0, "05:30"), G2) in relay_sessions and (at(1, "05:30"), G1) in relay_sessions
    assert not any(p.kind == "relay" for s in plan.sessions if s.slot.starts_at.hour == 17 for p in s.items)
