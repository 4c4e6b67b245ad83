"""Dashboard and yearly report: a dataset built through the real services at chosen moments (a fake
clock), every figure checked against a recomputation from raw table rows written here, window
edges in Vietnam time, the CSV and HTML forms, and who may see what."""

from __future__ import annotations

import csv
import io
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.broadcast.tables import PlayRecord
from backend.citizen.feedback import tracking
from backend.citizen.feedback.schemas import RatingIn
from backend.citizen.feedback.tables import Feedback, FeedbackEvent
from backend.citizen.push.tables import PushDelivery
from backend.core.accounts.permissions import Role
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.audit.tables import AuditEntry
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.tables import OutboxMessage
from backend.officials.feedback import flows
from backend.officials.feedback.tables import FeedbackHandling
from tests.citizen.feed.support import province_staff
from tests.citizen.feed.support import publish as publish_notice
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import submit

VN = timezone(timedelta(hours=7))
OPEN = {"received", "accepted", "assigned", "in_progress", "waiting_for_citizen", "reopened"}
DASHBOARD = "/api/v1/staff/dashboard"
YEARLY = "/api/v1/staff/reports/yearly"
NOW = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)  # 15/12/2026 08:00 in Vietnam


@pytest.fixture
def clock():
    return FakeClock(datetime(2025, 12, 1, tzinfo=UTC))


def vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VN).astimezone(UTC)


async def _actor(rt: Any, account_id: Any) -> Any:
    return await actor_for_account(rt, uuid.UUID(str(account_id)), ClientInfo("127.0.0.1", "test"))


async def build(client: Any, factory: Any, clock: FakeClock) -> dict[str, Any]:
    """Reports, answers (on time and late), ratings and notices at chosen moments."""
    rt = client.app.state.rt
    await factory.tree()
    handler = await _actor(rt, (await factory.user((Role.FEEDBACK_HANDLER, "VN"))).id)
    made: dict[str, tuple[str, str]] = {}

    async def report(name: str, at: datetime, **change: Any) -> str:
        clock.set(at)
        headers, account = await citizen(client)
        made[name] = (await submit(client, headers, **change), account)
        return made[name][0]

    async def answer(name: str, at: datetime, action: str = "answer") -> None:
        clock.set(at)
        await flows.perform(rt, handler, uuid.UUID(made[name][0]), flows.Act(action, text="Đã xử lý xong."))

    async def rate(name: str, at: datetime, stars: int) -> None:
        clock.set(at)
        who = await _actor(rt, made[name][1])
        await tracking.rate(rt, who, uuid.UUID(made[name][0]), RatingIn(rating=stars))

    await report("before", vn(2025, 12, 14, 23, 59))  # last minute of the 2025 window
    await report("first", vn(2025, 12, 15, 0, 0))  # first moment of the 2026 window
    await answer("first", vn(2025, 12, 15, 10, 0))
    await rate("first", vn(2025, 12, 16, 9, 0), 5)
    await report("late", vn(2026, 3, 2, 9, 0), area_code="38002-01", category="health")
    await report("open_overdue", vn(2026, 3, 2, 10, 0), category="land_construction")
    await answer("late", vn(2026, 4, 20, 9, 0))
    await rate("late", vn(2026, 4, 21, 9, 0), 2)
    await report("other_province", vn(2026, 4, 1, 9, 0), area_code="40001")
    await answer("other_province", vn(2026, 4, 1, 10, 0))
    await report("resolved", vn(2026, 6, 10, 8, 0))
    await answer("resolved", vn(2026, 6, 11, 8, 30))
    await answer("resolved", vn(2026, 6, 20, 8, 30), action="resolve")
    await report("last", vn(2026, 12, 14, 23, 59, 59))  # last second of the 2026 window
    await report("after", vn(2026, 12, 15, 0, 0))  # first moment of the 2027 window

    staff38 = await province_staff(factory, "38")
    staff40 = await province_staff(factory, "40")
    clock.set(vn(2025, 12, 14, 23, 59))
    await publish_notice(rt, staff38, "Trước kỳ", ["38001"], category="health")
    clock.set(vn(2026, 1, 10, 8, 0))
    await publish_notice(rt, staff38, "Tiêm chủng", ["38001"], category="health")
    clock.set(vn(2026, 5, 1, 8, 0))
    await publish_notice(rt, staff38, "Bão số 3", ["38"], category="disaster", priority="emergency")
    clock.set(vn(2026, 7, 1, 8, 0))
    await publish_notice(rt, staff38, "Lịch tiếp dân", ["38002"], category="local_admin", priority="priority")
    clock.set(vn(2026, 8, 1, 8, 0))
    await publish_notice(rt, staff40, "Nghệ An", ["40001"], category="health")
    clock.set(vn(2026, 12, 15, 0, 0))
    await publish_notice(rt, staff38, "Sau kỳ", ["38001"], category="health")
    clock.set(NOW)
    # Channels count what went out: the worker's finished rows, and a loudspeaker's proof of play.
    await client.app.state.worker.drain(max_rounds=200)
    first = await Notice.select(Notice.id).where(Notice.published_at == vn(2026, 1, 10, 8, 0)).first()
    await broadcast.record_play(
        rt,
        broadcast.PlayReport(
            device_id="loa-1",
            group_id=None,
            report_id="r1",
            manifest_id=None,
            item_id="",
            notice_id=first["id"],
            media_sha256="",
            started_at=NOW,
            ended_at=NOW,
            result="played",
        ),
    )
    return made


# --- the independent recomputation, from raw rows -----------------------------------------------


async def expected_feedback(path: str, start: datetime, end: datetime) -> dict[str, Any]:
    handling = {r["feedback"]: r for r in await FeedbackHandling.select()}
    reports = {r["id"]: r for r in await Feedback.select()}
    answers: dict[Any, list[datetime]] = defaultdict(list)
    for event in await FeedbackEvent.select():
        if event["kind"] in ("answer", "resolved") and event["public"]:
            answers[event["feedback"]].append(event["at"])
    chosen = []
    for fid, h in handling.items():
        if h["path"].startswith(path) and start <= h["created_at"] < end:
            r = reports[fid]
            first = min(answers[fid]) if answers[fid] else None
            overdue = r["status"] in OPEN and (
                h["answer_due"] < NOW or (r["status"] == "received" and h["ack_due"] < NOW)
            )
            month = h["created_at"].astimezone(VN).strftime("%Y-%m")
            chosen.append((h["category"], month, h["created_at"], h["answer_due"], r, first, overdue))

    def figures(items: list[Any]) -> dict[str, Any]:
        done = [i for i in items if i[5] is not None]
        hours = [(i[5] - i[2]).total_seconds() / 3600 for i in done]
        ratings = [i[4]["rating"] for i in items if i[4]["rating"] is not None]
        return {
            "received": len(items),
            "answered": len(done),
            "answered_on_time": len([i for i in done if i[5] <= i[3]]),
            "answered_late": len([i for i in done if i[5] > i[3]]),
            "open_now": len([i for i in items if i[4]["status"] in OPEN]),
            "overdue_now": len([i for i in items if i[6]]),
            "median_hours_to_answer": round(statistics.median(hours), 2) if hours else None,
            "rating_count": len(ratings),
            "rating_mean": round(statistics.mean(ratings), 2) if ratings else None,
        }

    out = figures(chosen)
    out["by_category"] = [
        {"category": c, **figures([i for i in chosen if i[0] == c])} for c in sorted({i[0] for i in chosen})
    ]
    months, cursor = [], start.astimezone(VN).replace(day=1)
    while cursor < end:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    out["monthly"] = [{"month": m, **figures([i for i in chosen if i[1] == m])} for m in months]
    return out


async def expected_notices(path: str, start: datetime, end: datetime) -> dict[str, Any]:
    targets = defaultdict(list)
    for t in await NoticeTarget.select():
        targets[t["notice"]].append(t["area_path"])
    notices = [
        n
        for n in await Notice.select()
        if n["published_at"] is not None
        and start <= n["published_at"] < end
        and (n["owner_path"].startswith(path) or any(p.startswith(path) for p in targets[n["id"]]))
    ]
    ids = {str(n["id"]) for n in notices}

    def tally(values: list[str]) -> list[dict[str, Any]]:
        return [{"key": k, "count": values.count(k)} for k in sorted(set(values))]

    outbox = [
        m["channel"]
        for m in await OutboxMessage.select()
        if m["event"] == "published"
        and m["status"] == "done"
        and m["channel"] not in ("mqtt", "eboard")
        and m["aggregate_id"] in ids
    ]
    for play in await PlayRecord.select():
        if play["result"] == "played" and str(play["notice_id"]) in ids:
            outbox.append("eboard" if play["manifest_kind"] == "eboard" else "mqtt")
    push = [
        d["status"]
        for d in await PushDelivery.select()
        if d["event"] == "published" and str(d["notice"]) in ids
    ]
    return {
        "published": len(notices),
        "by_category": tally([n["category"] for n in notices]),
        "by_priority": tally([n["priority"] for n in notices]),
        "by_channel": tally(outbox),
        "push": {
            "total": len(push),
            "sent": push.count("sent"),
            "failed": push.count("failed"),
            "other": len(push) - push.count("sent") - push.count("failed"),
        },
    }


# --- tests ------------------------------------------------------------------------------------------


async def test_yearly_report_matches_raw_rows_and_window_edges(client, factory, clock):
    made = await build(client, factory, clock)
    boss = await factory.user((Role.PROVINCE_APPROVER, "38"))
    response = await client.get(YEARLY, params={"year": 2026, "area": "38"}, headers=boss.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    start, end = vn(2025, 12, 15, 0, 0), vn(2026, 12, 15, 0, 0)
    assert datetime.fromisoformat(body["start"]) == start and datetime.fromisoformat(body["end"]) == end
    feedback = body["feedback"]
    assert feedback == await expected_feedback("/VN/38/", start, end)
    # The same figures written out by hand for this dataset.
    assert feedback["received"] == 5  # first, late, open_overdue, resolved, last — not before/after/NA
    assert (feedback["answered"], feedback["answered_on_time"], feedback["answered_late"]) == (3, 2, 1)
    assert (feedback["open_now"], feedback["overdue_now"]) == (2, 1)
    assert (feedback["rating_count"], feedback["rating_mean"]) == (2, 3.5)
    assert feedback["median_hours_to_answer"] == 24.5  # 10 h, 24.5 h, 1 beyond a month
    assert len(feedback["monthly"]) == 13 and feedback["monthly"][0]["month"] == "2025-12"
    assert feedback["monthly"][0]["received"] == 1 and feedback["monthly"][-1]["received"] == 1
    assert {c["category"] for c in feedback["by_category"]} == {"environment", "health", "land_construction"}

    notices = body["notices"]
    assert notices == await expected_notices("/VN/38/", start, end)
    assert notices["published"] == 3
    assert {c["key"]: c["count"] for c in notices["by_category"]} == {
        "disaster": 1,
        "health": 1,
        "local_admin": 1,
    }
    assert {c["key"]: c["count"] for c in notices["by_priority"]} == {
        "emergency": 1,
        "normal": 1,
        "priority": 1,
    }
    assert notices["by_channel"] and all(c["count"] >= 1 for c in notices["by_channel"])
    assert {c["key"]: c["count"] for c in notices["by_channel"]}["mqtt"] == 1
    assert body["devices"]["available"] is False and body["devices"]["total"] == 0
    assert body["devices"]["note"] == "Chưa có dữ liệu thiết bị"

    # The next window starts exactly where this one ended.
    nxt = (await client.get(YEARLY, params={"year": 2027, "area": "38"}, headers=boss.headers)).json()
    assert nxt["feedback"]["received"] == 1 and nxt["notices"]["published"] == 1
    prev = (await client.get(YEARLY, params={"year": 2025, "area": "38"}, headers=boss.headers)).json()
    assert prev["feedback"]["received"] == 1 and prev["notices"]["published"] == 1
    assert made["before"][0] != made["first"][0]
    views = await AuditEntry.select().where(AuditEntry.action == "report.view")
    assert len(views) == 3 and {v["target_id"] for v in views} == {
        "yearly:38:2025",
        "yearly:38:2026",
        "yearly:38:2027",
    }


async def test_dashboard_matches_raw_rows(client, factory, clock):
    await build(client, factory, clock)
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    params = {"area": "38001", "from": "2025-12-15", "to": "2026-12-14"}
    response = await client.get(DASHBOARD, params=params, headers=leader.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = await expected_feedback("/VN/38/38001/", vn(2025, 12, 15, 0, 0), vn(2026, 12, 15, 0, 0))
    assert body["feedback"] == expected
    assert body["feedback"]["received"] == 4  # first, open_overdue, resolved, last
    assert body["area_name"] == "Xã Hoằng Hóa"
    # One Vietnam calendar day: 14/12/2025 holds only the report of 23:59.
    one_day = {"area": "38001", "from": "2025-12-14", "to": "2025-12-14"}
    day = (await client.get(DASHBOARD, params=one_day, headers=leader.headers)).json()
    assert day["feedback"]["received"] == 1 and [m["month"] for m in day["feedback"]["monthly"]] == [
        "2025-12"
    ]
    # Without parameters: the leader's own commune, the last twelve months.
    default = (await client.get(DASHBOARD, headers=leader.headers)).json()
    assert default["area_code"] == "38001" and default["date_from"] == "2026-01-01"
    assert default["date_to"] == "2026-12-15" and len(default["feedback"]["monthly"]) == 12
    bad = await client.get(
        DASHBOARD, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=leader.headers
    )
    assert bad.status_code == 422
    assert await AuditEntry.count().where(AuditEntry.action == "report.view") == 3


async def test_csv_and_html_carry_the_same_figures(client, factory, clock):
    await build(client, factory, clock)
    boss = await factory.user((Role.PROVINCE_EDITOR, "38"))
    params = {"year": 2026, "area": "38"}
    body = (await client.get(YEARLY, params=params, headers=boss.headers)).json()
    response = await client.get(f"{YEARLY}.csv", params=params, headers=boss.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    cell = {(r["section"], r["figure"], r["key"]): r["value"] for r in rows}
    assert len(cell) == len(rows)  # one row per figure
    for name, value in body["feedback"].items():
        if name not in ("by_category", "monthly"):
            assert cell[("feedback", name, "")] == ("" if value is None else str(value))
    for cat in body["feedback"]["by_category"]:
        assert cell[("feedback_by_category", "received", cat["category"])] == str(cat["received"])
    for month in body["feedback"]["monthly"]:
        assert cell[("feedback_by_month", "answered_on_time", month["month"])] == str(
            month["answered_on_time"]
        )
    for item in body["notices"]["by_channel"]:
        assert cell[("notices_by_channel", "published", item["key"])] == str(item["count"])
    assert cell[("notices", "published", "")] == "3"
    assert cell[("devices", "clusters", "")] == "0"
    assert cell[("report", "window_start", "")] == "2025-12-15T00:00:00+07:00"
    assert cell[("report", "window_end", "")] == "2026-12-14T23:59:59+07:00"

    page = await client.get(f"{YEARLY}.html", params=params, headers=boss.headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<svg" in html and "<script" not in html and "Chưa có dữ liệu thiết bị" in html
    assert "00:00:00 15/12/2025" in html and "23:59:59 14/12/2026" in html
    assert "Báo cáo thông tin cơ sở năm 2026 — Thanh Hóa" in html
    assert f"<td>Tiếp nhận</td><td>{body['feedback']['received']}</td>" in html
    assert "<td>disaster</td><td>1</td>" in html


async def test_who_may_see_reports(client, factory):
    await factory.tree()
    params = {"year": 2026, "area": "38"}
    headers, _ = await citizen(client)
    assert (await client.get(YEARLY, params=params, headers=headers)).status_code == 403
    assert (await client.get(DASHBOARD, params={"area": "38"}, headers=headers)).status_code == 403
    other = await factory.user((Role.PROVINCE_APPROVER, "40"))
    assert (await client.get(YEARLY, params=params, headers=other.headers)).status_code == 403
    assert (await client.get(f"{YEARLY}.csv", params=params, headers=other.headers)).status_code == 403
    assert (await client.get(DASHBOARD, params={"area": "38001"}, headers=other.headers)).status_code == 403
    commune = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.get(YEARLY, params=params, headers=commune.headers)).status_code == 403
    assert (await client.get(DASHBOARD, params={"area": "38002"}, headers=commune.headers)).status_code == 403
    assert (await client.get(DASHBOARD, params={"area": "38001"}, headers=commune.headers)).status_code == 200
    province = await factory.user((Role.FEEDBACK_HANDLER, "38"))
    unknown = await client.get(YEARLY, params={"year": 2026, "area": "99"}, headers=province.headers)
    assert unknown.status_code == 404
    commune_report = await client.get(
        YEARLY, params={"year": 2026, "area": "38001"}, headers=province.headers
    )
    assert commune_report.status_code == 422
    assert (
        await client.get(YEARLY, params={"year": 1999, "area": "38"}, headers=province.headers)
    ).status_code == 400
    assert (await client.get(YEARLY, params=params, headers=province.headers)).status_code == 200
    assert await AuditEntry.count().where(AuditEntry.action == "report.view") == 2


def test_window_is_configurable():
    from backend.officials.reports.services import current_year, yearly_window

    assert current_year(NOW, "12-15") == 2027  # no year given: the window holding today
    assert current_year(vn(2026, 12, 14, 23, 59, 59), "12-15") == 2026

    assert yearly_window(2026, "12-15") == (vn(2025, 12, 15, 0, 0), vn(2026, 12, 15, 0, 0))
    assert yearly_window(2026, "10-01") == (vn(2025, 10, 1, 0, 0), vn(2026, 10, 1, 0, 0))
    assert yearly_window(2026, "01-01") == (vn(2026, 1, 1, 0, 0), vn(2027, 1, 1, 0, 0))
    with pytest.raises(ValueError):
        yearly_window(2026, "02-29")
