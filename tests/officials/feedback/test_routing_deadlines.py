"""Routing (most specific rule wins, else triage), working-day deadlines across weekends and
holidays, and the sweep: reminder, overdue flag, escalation to the supervisor unit."""

from datetime import UTC, date, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.officials.feedback import deadlines, routing
from backend.officials.feedback.sweep import sweep
from backend.officials.feedback.tables import FeedbackAlert
from tests.officials.feedback.helpers import CONFIG, URL, act, admin, rule, staff, submit, unit

TET = {date(2026, d, m) for d, m in [(2, 16), (2, 17), (2, 18), (2, 19), (2, 20)]}


def test_working_days_skip_weekends_and_holidays():
    friday = date(2026, 2, 13)
    assert deadlines.add_working_days(friday, 1, set()) == date(2026, 2, 16)
    assert deadlines.add_working_days(friday, 1, TET) == date(2026, 2, 23)
    assert deadlines.add_working_days(date(2026, 3, 2), 5, set()) == date(2026, 3, 9)
    assert deadlines.subtract_working_days(date(2026, 2, 23), 1, TET) == date(2026, 2, 13)
    assert deadlines.working_days_between(friday, date(2026, 2, 23), TET) == 1


def test_deadlines_are_close_of_business_in_vietnam_time():
    # Friday 13 Feb 2026, 18:30 in Hà Nội (11:30 UTC): acknowledge by Monday 23 Feb 17:00 after Tết.
    received = datetime(2026, 2, 13, 11, 30, tzinfo=UTC)
    due = deadlines.compute(received, deadlines.Sla(ack_days=1, answer_days=3, remind_days=1), TET)
    assert due.ack_due == datetime(2026, 2, 23, 10, 0, tzinfo=UTC)
    assert due.answer_due == datetime(2026, 2, 25, 10, 0, tzinfo=UTC)
    assert due.remind_at == datetime(2026, 2, 24, 10, 0, tzinfo=UTC)
    # 23:30 UTC on Sunday is already Monday morning in Vietnam: Monday does not count.
    late = deadlines.compute(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), deadlines.Sla(1, 1, 0), set())
    assert late.ack_due == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_most_specific_rule_wins():
    rules = [
        {"category": "", "area_path": "/VN/38/", "unit": "province"},
        {"category": "environment", "area_path": "/VN/38/", "unit": "province-env"},
        {"category": "", "area_path": "/VN/38/38001/", "unit": "commune"},
    ]
    assert routing.pick(rules, "environment", "/VN/38/38001/38001-01/")["unit"] == "commune"
    assert routing.pick(rules, "environment", "/VN/38/38002/")["unit"] == "province-env"
    assert routing.pick(rules, "health", "/VN/38/38002/")["unit"] == "province"
    assert routing.pick(rules, "health", "/VN/40/40001/") is None


async def test_routing_on_intake_and_triage(client, factory):
    await factory.tree()
    boss = await admin(factory)
    handler = await staff(factory, area="38")
    commune = await unit(client, boss, "UBND xã Hoằng Hóa", "38001")
    await rule(client, boss, "38001", commune)
    routed = await submit(client)
    coords_only = await submit(client, area_code=None, lat=19.8, long=105.77)
    one = (await client.get(f"{URL}/{routed}", headers=handler.headers)).json()
    assert one["handling"]["unit"] == commune and one["handling"]["triage"] is False
    assert one["handling"]["unit_name"] == "UBND xã Hoằng Hóa"
    other = (await client.get(f"{URL}/{coords_only}", headers=handler.headers)).json()
    assert other["handling"]["unit"] is None and other["handling"]["triage"] is True
    queue = (await client.get(URL, params={"triage": "true"}, headers=handler.headers)).json()
    assert [i["id"] for i in queue["items"]] == [coords_only]
    moved = await act(client, handler, coords_only, "route", {"unit": commune})
    assert moved.json()["handling"]["triage"] is False
    bad = await act(client, handler, coords_only, "route", {"unit": "00000000-0000-0000-0000-000000000000"})
    assert bad.status_code == 422
    handler_rules = await client.get(f"{CONFIG}/rules", headers=handler.headers)
    assert handler_rules.status_code == 403


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 09:00 in Vietnam


async def test_sweep_reminds_flags_and_escalates_once(client, factory, app_rt, clock):
    await factory.tree()
    boss = await admin(factory)
    province = await unit(client, boss, "Sở Tài nguyên và Môi trường", "38")
    commune = await unit(client, boss, "UBND xã Hoằng Hóa", "38001", supervisor=province)
    await rule(client, boss, "38001", commune)
    put = await client.put(
        f"{CONFIG}/sla/environment",
        json={"ack_days": 1, "answer_days": 2, "remind_days": 1},
        headers=boss.headers,
    )
    assert put.status_code == 200
    feedback_id = await submit(client)
    handler = await staff(factory)
    shown = (await client.get(f"{URL}/{feedback_id}", headers=handler.headers)).json()["handling"]
    assert shown["answer_due"].startswith("2026-03-04T10:00:00")
    assert (await sweep(app_rt)).reminders == 0
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))  # Tuesday 17:00: reminder time, ack due
    result = await sweep(app_rt)
    assert (result.reminders, result.overdue, result.escalations) == (1, 0, 0)
    clock.set(datetime(2026, 3, 3, 10, 1, tzinfo=UTC))  # not acknowledged in time
    result = await sweep(app_rt)
    assert (result.reminders, result.overdue, result.escalations) == (0, 1, 1)
    again = await sweep(app_rt)
    assert (again.reminders, again.overdue, again.escalations) == (0, 0, 0)
    alerts = await FeedbackAlert.select(FeedbackAlert.kind, FeedbackAlert.unit).order_by(FeedbackAlert.at)
    assert sorted((a["kind"], str(a["unit"])) for a in alerts) == [
        ("escalation", province),
        ("overdue", commune),
        ("reminder", commune),
    ]
    headers = {"Authorization": f"Bearer {factory.token(handler.id)}"}
    shown = (await client.get(f"{URL}/{feedback_id}", headers=headers)).json()["handling"]
    assert shown["overdue"] is True and shown["escalated_to"] == province
    late = (await client.get(URL, params={"overdue": "true"}, headers=headers)).json()["items"]
    assert [i["id"] for i in late] == [feedback_id]
    on_time = (await client.get(URL, params={"overdue": "false"}, headers=headers)).json()["items"]
    assert on_time == []
