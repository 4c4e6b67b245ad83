"""Notices over HTTP: drafting, validation, editing, the lifecycle and what it writes (outbox,
change log, audit), versions, emergency publishing, withdrawal, expiry, visibility and paging.

Time is a FakeClock here so expiry can be tested by moving it instead of waiting."""

from __future__ import annotations

import json
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.core.changes.tables import ChangeLog
from backend.core.notices import flows
from backend.core.notices.tables import Notice
from backend.core.outbox.tables import OutboxMessage
from tests.factories import User, later, notice_body

API = "/api/v1/notices"
BASE_CHANNELS = {"push", "mqtt", "eboard", "cap", "sms"}  # SMS for every priority: the channel picks who
ICT = timezone(timedelta(hours=7))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


# --- helpers ---------------------------------------------------------------------------------


async def create(client: httpx.AsyncClient, user: User, **overrides: Any) -> dict[str, Any]:
    response = await client.post(API, json=notice_body(**overrides), headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def act(
    client: httpx.AsyncClient, user: User, notice_id: str, action: str, **body: Any
) -> httpx.Response:
    return await client.post(f"{API}/{notice_id}/{action}", json=body, headers=user.headers)


async def advance(
    client: httpx.AsyncClient, notice_id: str, *steps: tuple[str, User], expect: int = 200
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for action, user in steps:
        response = await act(client, user, notice_id, action)
        assert response.status_code == expect, (action, response.text)
        data = response.json()
    return data


async def get_notice(client: httpx.AsyncClient, user: User, notice_id: str) -> httpx.Response:
    return await client.get(f"{API}/{notice_id}", headers=user.headers)


async def listed_ids(client: httpx.AsyncClient, user: User, **params: Any) -> list[str]:
    response = await client.get(API, params={"limit": 200, **params}, headers=user.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def audit_trail(client: httpx.AsyncClient, admin: User, target_id: str) -> list[dict[str, Any]]:
    """Audit entries about one target, oldest first."""
    response = await client.get(
        "/api/v1/audit", params={"target_id": target_id, "limit": 500}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


async def audit_details(entry: dict[str, Any]) -> dict[str, Any]:
    """The details stored with an audit entry, read from the table (the API returns ``{}`` for
    them, see ``test_audit_api_returns_the_details_of_notice_actions``)."""
    row = await AuditEntry.select(AuditEntry.details).where(AuditEntry.id == entry["id"]).first()
    assert row is not None
    details = row["details"]
    return json.loads(details) if isinstance(details, str) else details


async def outbox_rows(notice_id: str) -> list[dict[str, Any]]:
    rows = await OutboxMessage.select().where(OutboxMessage.aggregate_id == notice_id)
    for row in rows:
        if isinstance(row["payload"], str):
            row["payload"] = json.loads(row["payload"])
    return rows


async def change_count(notice_id: str) -> int:
    return await ChangeLog.count().where((ChangeLog.table_name == "notice") & (ChangeLog.row_id == notice_id))


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    return body["error"]


def vi(title: str, body: str = "Nội dung thông báo gửi bà con trong xã.") -> dict[str, Any]:
    return {"vi": {"title": title, "body": body}}


# --- creating drafts -------------------------------------------------------------------------


async def test_create_draft_returns_the_notice_with_its_owner_inferred(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    # Decomposed (NFD) Vietnamese with stray spaces, as some keyboards send it.
    title = unicodedata.normalize("NFD", "  Lịch tiêm chủng mở rộng ")
    body = notice_body(
        target_areas=["38001-02", "38001-01"],
        texts={"vi": {"title": title, "body": "Tiêm vắc-xin sởi cho trẻ dưới 5 tuổi.", "summary": ""}},
        valid_until=later(client.app.state.rt, days=3),
    )

    response = await client.post(API, json=body, headers=author.headers)

    assert response.status_code == 201, response.text
    notice = response.json()
    assert notice["status"] == "draft"
    assert notice["owner_area"] == "38001"
    assert notice["target_areas"] == ["38001-01", "38001-02"]
    assert notice["created_by"] == str(author.id)
    assert notice["version"] == 1
    assert notice["msg_type"] == "alert"
    assert notice["thread_id"] == notice["id"]
    assert notice["references_id"] is None
    assert notice["row_version"] == 1
    assert notice["category"] == "health"
    assert notice["priority"] == "normal"
    assert notice["texts"]["vi"]["title"] == unicodedata.normalize("NFC", "Lịch tiêm chủng mở rộng")
    for key in ("approved_by", "published_by", "submitted_at", "approved_at", "published_at", "ended_at"):
        assert notice[key] is None, key
    assert datetime.fromisoformat(notice["valid_until"]) == client.app.state.rt.clock.now() + timedelta(
        days=3
    )

    fetched = await get_notice(client, author, notice["id"])
    assert fetched.status_code == 200
    assert fetched.json() == notice
    assert await Notice.count() == 1


async def test_owner_is_the_most_specific_grant_covering_every_target(client, factory):
    await factory.tree()
    author = await factory.user((Role.PROVINCE_EDITOR, "38"), (Role.COMMUNE_OFFICIAL, "38001"))

    in_commune = await create(client, author, target_areas=["38001-01"])
    across_communes = await create(client, author, target_areas=["38001-01", "38002"])

    assert in_commune["owner_area"] == "38001"
    assert across_communes["owner_area"] == "38"


def _texts_without_vi(body: dict[str, Any]) -> None:
    body["texts"] = {"en": {"title": "Vaccination", "body": "Children's vaccination on Saturday."}}


def _blank_title(body: dict[str, Any]) -> None:
    body["texts"]["vi"]["title"] = "   "


BAD_CREATES = [
    # (case id, change to a valid body, status, error code, field, words in the reason)
    ("unknown_area", {"target_areas": ["38001", "99999"]}, 422, "validation_failed", "target_areas", "99999"),
    ("missing_vietnamese", _texts_without_vi, 422, "validation_failed", "texts.vi", "Vietnamese"),
    ("blank_title", _blank_title, 422, "validation_failed", "texts.vi.title", "blank"),
    ("valid_until_past", {"valid_until": "-1h"}, 422, "validation_failed", "valid_until", "future"),
    (
        "valid_until_before_from",
        {"valid_from": "+5h", "valid_until": "+2h"},
        422,
        "validation_failed",
        "valid_until",
        "after valid_from",
    ),
    (
        "naive_datetime",
        {"valid_until": "2026-03-05T08:00:00"},
        422,
        "validation_failed",
        "valid_until",
        "zone",
    ),
    (
        "unknown_category",
        {"category": "ufo_sightings"},
        422,
        "validation_failed",
        "category",
        "ufo_sightings",
    ),
    (
        "target_outside_owner",
        {"owner_area": "38001", "target_areas": ["38001-01", "38002"]},
        422,
        "validation_failed",
        "target_areas",
        "38002 is outside the owner area 38001",
    ),
    ("no_grant_over_target", {"target_areas": ["38002"]}, 403, "out_of_area", None, None),
    (
        "owner_area_not_granted",
        {"owner_area": "38", "target_areas": ["38001"]},
        403,
        "out_of_area",
        None,
        None,
    ),
    ("priority_wrong_type", {"priority": 5}, 400, "invalid_input", "priority", "Expected `str`"),
    ("priority_unknown_value", {"priority": "urgent"}, 400, "invalid_input", "priority", "urgent"),
    ("targets_not_a_list", {"target_areas": "38001"}, 400, "invalid_input", "target_areas", "array"),
    ("targets_empty", {"target_areas": []}, 400, "invalid_input", "target_areas", "length >= 1"),
    ("unknown_field", {"colour": "đỏ"}, 400, "invalid_input", None, "unknown field `colour`"),
    (
        "unknown_text_field",
        lambda b: b["texts"]["vi"].update(subtitle="x"),
        400,
        "invalid_input",
        None,
        "unknown field `subtitle`",
    ),
    ("empty_title", lambda b: b["texts"]["vi"].update(title=""), 400, "invalid_input", None, "length >= 1"),
    ("missing_category", lambda b: b.pop("category"), 400, "invalid_input", None, "field `category`"),
]


@pytest.mark.parametrize(
    ("change", "status", "code", "field", "words"),
    [case[1:] for case in BAD_CREATES],
    ids=[case[0] for case in BAD_CREATES],
)
async def test_bad_create_is_refused_specifically_and_changes_nothing(
    client, factory, change, status, code, field, words
):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    existing = await create(client, author)
    rt = client.app.state.rt
    body = notice_body()
    if callable(change):
        change(body)
    else:
        for key, value in change.items():
            # "+5h" / "-1h": relative to the (fake) clock, so the case does not rot.
            if isinstance(value, str) and key.startswith("valid_") and value[0] in "+-":
                value = later(rt, hours=float(value[:-1]))
            body[key] = value
    outbox_before = await OutboxMessage.count()

    response = await client.post(API, json=body, headers=author.headers)

    assert response.status_code == status, response.text
    err = error(response)
    assert err["code"] == code
    if words is not None:
        assert any((field is None or d["field"] == field) and words in d["reason"] for d in err["details"]), (
            err
        )
    if status == 403:
        assert err["message"] == "Thao tác nằm ngoài địa bàn bạn được phân quyền."
    assert await Notice.count() == 1
    assert await listed_ids(client, author) == [existing["id"]]
    assert await OutboxMessage.count() == outbox_before


async def test_malformed_json_is_refused_and_changes_nothing(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))

    response = await client.post(
        API, content=b'{"category": "health",', headers={**author.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert error(response)["code"] == "bad_request"
    assert error(response)["message"] == "Yêu cầu không hợp lệ."
    assert await Notice.count() == 0


async def test_errors_are_in_vietnamese_by_default_and_english_on_request(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    bad = notice_body(target_areas=["99999"])

    default = await client.post(API, json=bad, headers=author.headers)
    english = await client.post(API, json=bad, headers={**author.headers, "Accept-Language": "en"})

    assert default.status_code == english.status_code == 422
    assert error(default)["message"] == "Dữ liệu không hợp lệ."
    assert error(english)["message"] == "The request is not valid."
    assert error(default)["details"] == [{"field": "target_areas", "reason": "unknown area code 99999"}]


async def test_unauthenticated_requests_are_refused(client, factory):
    await factory.tree()

    response = await client.post(API, json=notice_body())

    assert response.status_code == 401
    assert error(response)["code"] == "unauthorized"
    assert await Notice.count() == 0


# --- editing ---------------------------------------------------------------------------------


async def test_edit_draft_with_current_row_version(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice = await create(client, author)

    response = await client.patch(
        f"{API}/{notice['id']}",
        json={
            "row_version": notice["row_version"],
            "texts": vi("Lịch tiêm chủng (đã đổi giờ)"),
            "priority": "priority",
            "target_areas": ["38001-01"],
        },
        headers=author.headers,
    )

    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["row_version"] == notice["row_version"] + 1
    assert edited["texts"]["vi"]["title"] == "Lịch tiêm chủng (đã đổi giờ)"
    assert edited["priority"] == "priority"
    assert edited["target_areas"] == ["38001-01"]
    assert edited["category"] == notice["category"]  # left out, left alone
    assert edited["status"] == "draft"
    trail = await audit_trail(client, admin, notice["id"])
    assert [e["action"] for e in trail] == ["notice.create", "notice.edit"]
    assert set((await audit_details(trail[1]))["fields"]) == {"texts", "priority", "target_areas"}
    assert await change_count(notice["id"]) == 2


async def test_edit_with_stale_row_version_is_a_conflict_and_changes_nothing(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    colleague = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    notice = await create(client, author)
    first = await client.patch(
        f"{API}/{notice['id']}",
        json={"row_version": 1, "texts": vi("Bản sửa của đồng nghiệp")},
        headers=colleague.headers,
    )
    assert first.status_code == 200, first.text

    stale = await client.patch(
        f"{API}/{notice['id']}",
        json={"row_version": 1, "texts": vi("Bản sửa ghi đè")},
        headers=author.headers,
    )

    assert stale.status_code == 409, stale.text
    err = error(stale)
    assert err["code"] == "stale_version"
    assert err["details"] == {"row_version": 2, "status": "draft"}
    assert "tải lại" in err["message"]
    current = (await get_notice(client, author, notice["id"])).json()
    assert current["texts"]["vi"]["title"] == "Bản sửa của đồng nghiệp"
    assert current["row_version"] == 2


async def test_edit_is_refused_once_submitted_and_allowed_again_after_return(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author)
    submitted = await advance(client, notice["id"], ("submit", author))

    refused = await client.patch(
        f"{API}/{notice['id']}",
        json={"row_version": submitted["row_version"], "texts": vi("Sửa sau khi trình")},
        headers=author.headers,
    )

    assert refused.status_code == 409, refused.text
    err = error(refused)
    assert err["code"] == "invalid_state"
    assert err["details"] == {"status": "submitted", "action": "edit"}
    unchanged = (await get_notice(client, author, notice["id"])).json()
    assert unchanged == submitted

    returned = await act(client, leader, notice["id"], "return", reason="Bổ sung địa điểm")
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "draft"
    again = await client.patch(
        f"{API}/{notice['id']}",
        json={"row_version": returned.json()["row_version"], "texts": vi("Đã bổ sung địa điểm")},
        headers=author.headers,
    )
    assert again.status_code == 200, again.text
    assert again.json()["texts"]["vi"]["title"] == "Đã bổ sung địa điểm"


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"category": "ufo_sightings"}, 422, "validation_failed"),
        ({"target_areas": ["38002"]}, 422, "validation_failed"),
        ({"texts": {"en": {"title": "x", "body": "y"}}}, 422, "validation_failed"),
        ({"priority": "urgent"}, 400, "invalid_input"),
        ({"status": "published"}, 400, "invalid_input"),
    ],
    ids=["unknown_category", "target_outside_owner", "no_vietnamese", "bad_priority", "status_not_editable"],
)
async def test_bad_edit_changes_nothing(client, factory, patch, status, code):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    notice = await create(client, author)

    response = await client.patch(
        f"{API}/{notice['id']}", json={"row_version": 1, **patch}, headers=author.headers
    )

    assert response.status_code == status, response.text
    assert error(response)["code"] == code
    assert (await get_notice(client, author, notice["id"])).json() == notice
    assert await change_count(notice["id"]) == 1


# --- the lifecycle and what it writes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "channels"),
    [("normal", BASE_CHANNELS), ("priority", BASE_CHANNELS), ("emergency", {*BASE_CHANNELS, "sms"})],
)
async def test_lifecycle_writes_outbox_change_log_and_audit(client, factory, priority, channels):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    rt = client.app.state.rt
    notice = await create(client, author, priority=priority)
    notice_id = notice["id"]
    assert await change_count(notice_id) == 1

    submitted = await advance(client, notice_id, ("submit", author))
    assert submitted["status"] == "submitted"
    assert submitted["submitted_at"] is not None
    approved = await advance(client, notice_id, ("approve", leader))
    assert approved["status"] == "approved"
    assert approved["approved_by"] == str(leader.id)
    assert await outbox_rows(notice_id) == [], "nothing goes out before publishing"
    rt.clock.advance(minutes=5)
    published = await advance(client, notice_id, ("publish", leader))

    assert published["status"] == "published"
    assert published["published_by"] == str(leader.id)
    assert datetime.fromisoformat(published["published_at"]) == rt.clock.now()
    assert published["row_version"] == 4

    rows = await outbox_rows(notice_id)
    assert sorted(r["channel"] for r in rows) == sorted(channels), "exactly one row per channel"
    for row in rows:
        assert row["event"] == "published"
        assert row["status"] == "pending"
        assert row["payload"]["notice_id"] == notice_id
        assert row["payload"]["priority"] == priority
        assert row["payload"]["msg_type"] == "alert"
        assert row["payload"]["version"] == 1

    assert await change_count(notice_id) == 4  # create, submit, approve, publish

    trail = await audit_trail(client, admin, notice_id)
    assert [(e["action"], e["actor_id"], e["actor_role"], e["actor_area"]) for e in trail] == [
        ("notice.create", str(author.id), "commune_official", "38001"),
        ("notice.submit", str(author.id), "commune_official", "38001"),
        ("notice.approve", str(leader.id), "commune_leader", "38001"),
        ("notice.publish", str(leader.id), "commune_leader", "38001"),
    ]
    details = await audit_details(trail[-1])
    assert details["channels"] == flows.channels_for(priority)
    assert details["from"] == "approved"
    assert all(e["client_addr"] == "127.0.0.1" and e["request_id"] for e in trail)


async def test_audit_api_returns_the_details_of_notice_actions(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice = await create(client, author)

    trail = await audit_trail(client, admin, notice["id"])

    assert trail[0]["details"] == {"priority": "normal", "targets": ["38001"]}


async def test_steps_out_of_order_are_conflicts(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author)

    for action in ("approve", "publish", "withdraw"):
        response = await act(client, leader, notice["id"], action)
        assert response.status_code == 409, (action, response.text)
        err = error(response)
        assert err["code"] == "invalid_state"
        assert err["details"] == {"status": "draft", "action": action}
        assert "“draft”" in err["message"]
    await advance(client, notice["id"], ("submit", author))
    again = await act(client, author, notice["id"], "submit")
    assert again.status_code == 409
    assert error(again)["code"] == "invalid_state"

    current = (await get_notice(client, author, notice["id"])).json()
    assert current["status"] == "submitted"
    assert await outbox_rows(notice["id"]) == []
    assert await change_count(notice["id"]) == 2


async def test_step_with_stale_row_version_is_refused(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author)
    await advance(client, notice["id"], ("submit", author))

    response = await act(client, leader, notice["id"], "approve", row_version=1)

    assert response.status_code == 409
    assert error(response)["code"] == "stale_version"
    assert (await get_notice(client, leader, notice["id"])).json()["status"] == "submitted"


# --- versions: updates and cancellations ------------------------------------------------------


async def _published(client, author: User, leader: User, **overrides: Any) -> dict[str, Any]:
    notice = await create(client, author, **overrides)
    return await advance(client, notice["id"], ("submit", author), ("approve", leader), ("publish", leader))


async def test_update_is_a_new_version_that_supersedes_the_old_once_published(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    rt = client.app.state.rt
    v1 = await _published(client, author, leader, valid_until=later(rt, days=2))

    response = await client.post(
        f"{API}/{v1['id']}/versions",
        json={"msg_type": "update", "reason": "Đổi giờ tiêm", "texts": vi("Tiêm chủng dời sang 14 giờ")},
        headers=author.headers,
    )

    assert response.status_code == 201, response.text
    v2 = response.json()
    assert v2["id"] != v1["id"]
    assert v2["thread_id"] == v1["thread_id"]
    assert v2["version"] == 2
    assert v2["references_id"] == v1["id"]
    assert v2["msg_type"] == "update"
    assert v2["status"] == "draft"
    assert v2["texts"]["vi"]["title"] == "Tiêm chủng dời sang 14 giờ"
    # Fields not given are copied from the version being updated.
    for key in ("category", "priority", "owner_area", "target_areas", "valid_until"):
        assert v2[key] == v1[key], key
    assert (await get_notice(client, author, v1["id"])).json()["status"] == "published"

    await advance(client, v2["id"], ("submit", author), ("approve", leader))
    assert (await get_notice(client, author, v1["id"])).json()["status"] == "published"
    published = await advance(client, v2["id"], ("publish", leader))

    assert published["status"] == "published"
    old = (await get_notice(client, author, v1["id"])).json()
    assert old["status"] == "superseded"
    assert old["end_reason"] == f"update:{v2['id']}"
    assert old["ended_at"] is not None
    rows = await outbox_rows(v2["id"])
    assert sorted(r["channel"] for r in rows) == sorted(BASE_CHANNELS)
    assert {r["payload"]["references_id"] for r in rows} == {v1["id"]}
    assert {r["payload"]["msg_type"] for r in rows} == {"update"}
    assert len(await outbox_rows(v1["id"])) == len(BASE_CHANNELS), "the old version is not re-sent"
    assert [e["action"] for e in await audit_trail(client, admin, v2["id"])] == [
        "notice.update",
        "notice.submit",
        "notice.approve",
        "notice.publish",
    ]
    thread = await listed_ids(client, author, thread_id=v1["thread_id"])
    assert sorted(thread) == sorted([v1["id"], v2["id"]])


async def test_cancel_is_a_new_version_that_withdraws_the_old_once_published(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    v1 = await _published(client, author, leader, priority="emergency")

    response = await client.post(
        f"{API}/{v1['id']}/versions",
        json={"msg_type": "cancel", "reason": "Bão đã suy yếu"},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    cancel = response.json()
    assert cancel["msg_type"] == "cancel"
    assert cancel["references_id"] == v1["id"]
    assert cancel["texts"] == v1["texts"]
    assert cancel["priority"] == "emergency"

    await advance(client, cancel["id"], ("submit", author), ("approve", leader))
    assert (await get_notice(client, author, v1["id"])).json()["status"] == "published"
    await advance(client, cancel["id"], ("publish", leader))

    old = (await get_notice(client, author, v1["id"])).json()
    assert old["status"] == "withdrawn"
    assert old["end_reason"] == f"cancel:{cancel['id']}"
    rows = await outbox_rows(cancel["id"])
    assert sorted(r["channel"] for r in rows) == sorted({*BASE_CHANNELS, "sms"})
    assert {r["payload"]["msg_type"] for r in rows} == {"cancel"}
    trail = await audit_trail(client, admin, cancel["id"])
    assert trail[0]["action"] == "notice.cancel"
    assert await audit_details(trail[0]) == {"references": v1["id"], "reason": "Bão đã suy yếu"}


@pytest.mark.parametrize("state", ["draft", "submitted", "approved"])
async def test_versions_only_of_published_notices(client, factory, state):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author)
    steps = {
        "draft": [],
        "submitted": [("submit", author)],
        "approved": [("submit", author), ("approve", leader)],
    }
    await advance(client, notice["id"], *steps[state])

    response = await client.post(
        f"{API}/{notice['id']}/versions", json={"msg_type": "update"}, headers=author.headers
    )

    assert response.status_code == 409, response.text
    assert error(response)["code"] == "invalid_state"
    assert error(response)["details"] == {"status": state, "action": "update"}
    assert await Notice.count() == 1


async def test_superseded_version_cannot_be_updated_again(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    v1 = await _published(client, author, leader)
    v2 = (
        await client.post(f"{API}/{v1['id']}/versions", json={"msg_type": "update"}, headers=author.headers)
    ).json()
    await advance(client, v2["id"], ("submit", author), ("approve", leader), ("publish", leader))

    response = await client.post(
        f"{API}/{v1['id']}/versions", json={"msg_type": "update"}, headers=author.headers
    )
    v3 = await client.post(f"{API}/{v2['id']}/versions", json={"msg_type": "update"}, headers=author.headers)

    assert response.status_code == 409
    assert error(response)["details"]["status"] == "superseded"
    assert v3.status_code == 201, v3.text
    assert v3.json()["version"] == 3
    assert v3.json()["references_id"] == v2["id"]


@pytest.mark.parametrize(
    ("grant", "status", "code"),
    [
        ((Role.FEEDBACK_HANDLER, "38001"), 403, "forbidden"),
        ((Role.COMMUNE_OFFICIAL, "38002"), 404, "not_found"),
        ((Role.PROVINCE_EDITOR, "38"), 201, None),
    ],
    ids=["reader_only", "other_commune", "province_editor"],
)
async def test_who_may_draft_a_new_version(client, factory, grant, status, code):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    other = await factory.user(grant)
    v1 = await _published(client, author, leader)

    response = await client.post(
        f"{API}/{v1['id']}/versions", json={"msg_type": "cancel", "reason": "Hủy lịch"}, headers=other.headers
    )

    assert response.status_code == status, response.text
    if code is None:
        assert response.json()["owner_area"] == "38001"
        assert await Notice.count() == 2
    else:
        assert error(response)["code"] == code
        assert await Notice.count() == 1


# --- emergency publishing ---------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "submitted"])
async def test_commune_leader_publishes_an_emergency_in_one_step(client, factory, state):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice = await create(
        client,
        author,
        category="disaster",
        priority="emergency",
        texts=vi("Bão số 5 đổ bộ", "Bà con khẩn trương sơ tán đến nơi an toàn trước 17 giờ."),
    )
    if state == "submitted":
        await advance(client, notice["id"], ("submit", author))

    response = await act(client, leader, notice["id"], "emergency-publish", reason="Bão khẩn cấp")

    assert response.status_code == 200, response.text
    published = response.json()
    assert published["status"] == "published"
    assert published["approved_by"] == published["published_by"] == str(leader.id)
    assert published["submitted_at"] is not None
    assert published["approved_at"] == published["published_at"]
    rows = await outbox_rows(notice["id"])
    assert sorted(r["channel"] for r in rows) == sorted({*BASE_CHANNELS, "sms"})
    trail = await audit_trail(client, admin, notice["id"])
    last = trail[-1]
    assert (last["action"], last["actor_id"], last["actor_role"], last["actor_area"]) == (
        "notice.emergency_publish",
        str(leader.id),
        "commune_leader",
        "38001",
    )
    details = await audit_details(last)
    assert details["from"] == state
    assert details["reason"] == "Bão khẩn cấp"
    assert "notice.approve" not in [e["action"] for e in trail]


@pytest.mark.parametrize("priority", ["normal", "priority"])
async def test_emergency_publish_of_a_non_emergency_notice_is_a_conflict(client, factory, priority):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice = await create(client, author, priority=priority)

    response = await act(client, leader, notice["id"], "emergency-publish")

    assert response.status_code == 409, response.text
    err = error(response)
    assert err["code"] == "not_emergency"
    assert err["details"] == {"priority": priority}
    assert (await get_notice(client, author, notice["id"])).json()["status"] == "draft"
    assert await outbox_rows(notice["id"]) == []
    assert [e["action"] for e in await audit_trail(client, admin, notice["id"])] == ["notice.create"]


async def test_emergency_publish_of_a_published_notice_is_a_conflict(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author, priority="emergency")
    await advance(client, notice["id"], ("emergency-publish", leader))

    again = await act(client, leader, notice["id"], "emergency-publish")

    assert again.status_code == 409
    assert error(again)["code"] == "invalid_state"
    assert len(await outbox_rows(notice["id"])) == 5, "published once, sent once"


# --- withdrawal -------------------------------------------------------------------------------


async def test_withdrawing_a_published_notice_enqueues_withdrawn_events(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    admin = await factory.user((Role.ADMIN, "VN"))
    notice = await _published(client, author, leader)

    response = await act(client, leader, notice["id"], "withdraw", reason="Thông tin chưa chính xác")

    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["end_reason"] == "Thông tin chưa chính xác"
    assert withdrawn["ended_at"] is not None
    rows = await outbox_rows(notice["id"])
    by_event = {
        event: sorted(r["channel"] for r in rows if r["event"] == event)
        for event in ("published", "withdrawn")
    }
    assert by_event == {"published": sorted(BASE_CHANNELS), "withdrawn": sorted(BASE_CHANNELS)}
    assert len(rows) == 2 * len(BASE_CHANNELS)
    assert (await audit_trail(client, admin, notice["id"]))[-1]["action"] == "notice.withdraw"
    assert await change_count(notice["id"]) == 5

    again = await act(client, leader, notice["id"], "withdraw")
    assert again.status_code == 409
    assert error(again)["code"] == "invalid_state"
    assert len(await outbox_rows(notice["id"])) == 2 * len(BASE_CHANNELS)


async def test_withdrawing_an_approved_notice_sends_nothing(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    notice = await create(client, author)
    await advance(client, notice["id"], ("submit", author), ("approve", leader))

    response = await act(client, leader, notice["id"], "withdraw")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert response.json()["end_reason"] == "withdrawn"
    assert await outbox_rows(notice["id"]) == []
    publish = await act(client, leader, notice["id"], "publish")
    assert publish.status_code == 409
    assert await outbox_rows(notice["id"]) == []


# --- expiry -----------------------------------------------------------------------------------


async def test_published_notice_expires_when_its_validity_ends(client, factory, clock):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    rt = client.app.state.rt
    # Given in Vietnam time: expiry must compare instants, not the text of the timestamps.
    ends = (clock.now() + timedelta(hours=2)).astimezone(ICT)
    expiring = await _published(client, author, leader, valid_until=ends.isoformat())
    open_ended = await _published(client, author, leader)
    draft = await create(client, author, valid_until=later(rt, hours=1))

    clock.advance(hours=1, minutes=59)
    assert await flows.expire_due(rt) == 0
    assert await Notice.select(Notice.status).where(Notice.id == expiring["id"]).first() == {
        "status": "published"
    }

    clock.advance(minutes=1)
    assert await flows.expire_due(rt) == 1
    assert await flows.expire_due(rt) == 0, "expiry happens once"

    reader = User(id=author.id, token=factory.token(author.id))  # the old token expired meanwhile
    expired = (await get_notice(client, reader, expiring["id"])).json()
    assert expired["status"] == "expired"
    assert expired["end_reason"] == "valid_until"
    assert datetime.fromisoformat(expired["ended_at"]) == clock.now()
    assert (await get_notice(client, reader, open_ended["id"])).json()["status"] == "published"
    assert (await get_notice(client, reader, draft["id"])).json()["status"] == "draft"
    admin = await factory.user((Role.ADMIN, "VN"))
    last = (await audit_trail(client, admin, expiring["id"]))[-1]
    assert (last["action"], last["actor_id"], last["actor_role"]) == ("notice.expire", None, "system")
    assert await change_count(expiring["id"]) == 5


# --- visibility -------------------------------------------------------------------------------


async def test_commune_official_does_not_see_another_communes_drafts(client, factory):
    await factory.tree()
    here = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    there = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    there_leader = await factory.user((Role.COMMUNE_LEADER, "38002"))
    province = await factory.user((Role.PROVINCE_APPROVER, "38"))
    own = await create(client, here)
    other_draft = await create(client, there, target_areas=["38002"])
    other_published = await _published(client, there, there_leader, target_areas=["38002-01"])
    province_draft = await create(client, province, target_areas=["38"])
    province_wide = await _published(client, province, province, target_areas=["38"])

    hidden = await get_notice(client, here, other_draft["id"])
    assert hidden.status_code == 404
    assert error(hidden)["code"] == "not_found"
    assert error(hidden)["message"] == "Không tìm thấy bản tin."
    missing_id = str(uuid.uuid4())
    missing = await get_notice(client, here, missing_id)
    assert missing.status_code == 404
    assert error(missing) == {**error(hidden), "details": {"id": missing_id}}, "hidden looks like missing"
    assert error(hidden)["details"] == {"id": other_draft["id"]}
    assert (await get_notice(client, here, other_published["id"])).status_code == 404
    assert (await get_notice(client, here, province_draft["id"])).status_code == 404

    visible = await get_notice(client, here, province_wide["id"])
    assert visible.status_code == 200, visible.text
    assert visible.json()["status"] == "published"
    assert visible.json()["owner_area"] == "38"

    assert sorted(await listed_ids(client, here)) == sorted([own["id"], province_wide["id"]])
    assert other_draft["id"] in await listed_ids(client, there)
    assert province_draft["id"] not in await listed_ids(client, there)
    everything = await listed_ids(client, province)
    assert sorted(everything) == sorted(
        n["id"] for n in (own, other_draft, other_published, province_draft, province_wide)
    )


async def test_list_filters(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"), (Role.COMMUNE_OFFICIAL, "38002"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    draft = await create(client, author, category="agriculture")
    published = await _published(client, author, leader, priority="emergency")
    elsewhere = await create(client, author, target_areas=["38002-01"])

    assert await listed_ids(client, author, status="published") == [published["id"]]
    assert await listed_ids(client, author, category="agriculture") == [draft["id"]]
    assert await listed_ids(client, author, priority="emergency") == [published["id"]]
    assert await listed_ids(client, author, area="38002") == [elsewhere["id"]]
    bad = await client.get(API, params={"status": "lost"}, headers=author.headers)
    assert bad.status_code == 400
    unknown_area = await client.get(API, params={"area": "99999"}, headers=author.headers)
    assert unknown_area.status_code == 404


async def test_list_pagination_returns_every_notice_once(client, factory, clock):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    created = []
    for i in range(11):
        created.append(await create(client, author, texts=vi(f"Thông báo số {i + 1}")))
        if i % 3 == 2:  # some share a timestamp, some do not: the cursor must handle both
            clock.advance(seconds=1)

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(API, params=params, headers=author.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 4
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor must make progress"

    assert pages == 3
    ids = [n["id"] for n in seen]
    assert len(ids) == len(set(ids)) == 11
    assert set(ids) == {n["id"] for n in created}
    keys = [(n["created_at"], n["id"]) for n in seen]
    assert keys == sorted(keys, reverse=True), "newest first, id breaking ties"

    bad = await client.get(API, params={"cursor": "not-a-cursor!"}, headers=author.headers)
    assert bad.status_code == 400
    assert error(bad)["code"] == "bad_cursor"
