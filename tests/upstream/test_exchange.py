"""The upstream's side served by one instance: the notice exchange page by page, report intake
checks, downstream registration rights; and the downstream's pull against a fake upstream
(repeating a page creates nothing twice)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from backend.adapters.clock import FakeClock
from backend.adapters.upstream import FakeUpstreamClient
from backend.core.accounts.permissions import Role
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.tables import Notice
from backend.lib.crypto import public_key_b64, sign_envelope
from backend.lib.db import json_column
from backend.settings import Settings
from backend.upstream import pull
from backend.upstream.tables import UpstreamNotice
from tests.factories import later, notice_body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(upstream_url="http://upstream.invalid", upstream_auto_publish_emergency=True)


async def _publish(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = notice_body(valid_until=later(client.app.state.rt, hours=3), **overrides)
    notice = (await client.post("/api/v1/notices", json=body, headers=headers)).json()
    for step in ("submit", "approve", "publish"):
        answer = await client.post(f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=headers)
        assert answer.status_code == 200, answer.text
    return answer.json()


async def test_exchange_pages_in_change_order_with_current_state(client, factory):
    await factory.tree()
    approver = await factory.user((Role.PROVINCE_APPROVER, "38"), (Role.PROVINCE_APPROVER, "40"))
    first = await _publish(client, approver.headers, target_areas=["38001"])
    second = await _publish(client, approver.headers, target_areas=["38002-01"])
    await _publish(client, approver.headers, target_areas=["40001"])
    draft = await client.post("/api/v1/notices", json=notice_body(), headers=approver.headers)
    assert draft.status_code == 201

    page = (await client.get("/federation/v1/notices", params={"province": "38", "limit": 1})).json()
    assert [i["id"] for i in page["items"]] == [first["id"]] and page["more"] is True
    rest = (
        await client.get("/federation/v1/notices", params={"province": "38", "since": page["cursor"]})
    ).json()
    # Later lifecycle steps of the first notice come again (its current state, idempotent downstream).
    assert [i["id"] for i in rest["items"]] == [first["id"], second["id"]] and rest["more"] is False
    item = rest["items"][1]
    assert item["target_areas"] == ["38002-01"] and item["texts"]["vi"]["title"] == "Tiêm chủng"
    assert item["cap_url"] == f"/cap/alerts/{item['cap_identifier']}.xml"

    withdrawn = await client.post(
        f"/api/v1/notices/{first['id']}/withdraw", json={}, headers=approver.headers
    )
    assert withdrawn.status_code == 200
    after = (
        await client.get("/federation/v1/notices", params={"province": "38", "since": rest["cursor"]})
    ).json()
    assert [(i["id"], i["status"]) for i in after["items"]] == [(first["id"], "withdrawn")]
    nothing = (
        await client.get("/federation/v1/notices", params={"province": "38", "since": after["cursor"]})
    ).json()
    assert nothing["items"] == [] and nothing["cursor"] == after["cursor"]

    assert (
        await client.get("/federation/v1/notices", params={"province": "38", "since": "x"})
    ).status_code == 400
    assert (await client.get("/federation/v1/notices", params={"province": "99"})).status_code == 404


async def test_report_intake_refuses_what_it_cannot_trust(client, factory, app_rt):
    await factory.tree()
    key = app_rt.province_keys.current
    keys = {"name": "Tỉnh Thanh Hóa", "keys": [{"kid": key.kid, "public_key": public_key_b64(key)}]}
    approver = await factory.user((Role.PROVINCE_APPROVER, "38"))
    assert (
        await client.put("/api/v1/federation/downstreams/38", json=keys, headers=approver.headers)
    ).status_code == 403
    admin = await factory.user((Role.ADMIN, "VN"))
    registered = await client.put("/api/v1/federation/downstreams/38", json=keys, headers=admin.headers)
    assert registered.status_code == 200 and registered.json()["keys"][0]["kid"] == key.kid

    payload = {
        "schema": 1,
        "province_code": "38",
        "period": "2026-01-01",
        "period_start": "2025-12-31T17:00:00Z",
        "period_end": "2026-01-01T17:00:00Z",
        "generated_at": "2026-01-02T00:00:00Z",
        "figures": {"devices": {}, "notices": {}, "sms": {}, "feedback": {}},
    }
    good = sign_envelope(key, json.dumps(payload).encode())
    first = await client.post("/federation/v1/reports", content=good)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    assert (await client.post("/federation/v1/reports", content=good)).json()["status"] == "duplicate"
    newer = sign_envelope(key, json.dumps({**payload, "generated_at": "2026-01-03T00:00:00Z"}).encode())
    assert (await client.post("/federation/v1/reports", content=newer)).json()["status"] == "replaced"
    assert (await client.post("/federation/v1/reports", content=good)).json()["status"] == "stale"

    other = sign_envelope(key, json.dumps({**payload, "province_code": "40"}).encode())
    assert (await client.post("/federation/v1/reports", content=other)).json()["error"][
        "code"
    ] == "downstream_unknown"
    bad = sign_envelope(key, json.dumps({**payload, "period_end": "2025-01-01T00:00:00Z"}).encode())
    assert (await client.post("/federation/v1/reports", content=bad)).status_code == 422
    assert (await client.post("/federation/v1/reports", content=b"{}")).status_code == 400
    listed = await client.get("/api/v1/federation/downstreams/38/reports", headers=admin.headers)
    assert [r["payload"]["generated_at"] for r in listed.json()["items"]] == ["2026-01-03T00:00:00Z"]


def _exchange_item(**fields: Any) -> dict[str, Any]:
    notice_id = fields.pop("id", uuid.uuid4())
    item = {
        "id": str(notice_id),
        "thread_id": str(fields.pop("thread_id", notice_id)),
        "version": 1,
        "references_id": None,
        "msg_type": "alert",
        "status": "published",
        "category": "disaster",
        "priority": "emergency",
        "texts": {"vi": {"title": "Bão số 5", "body": "Sơ tán ngay.", "summary": ""}},
        "target_areas": ["38001"],
        "attachments": [],
        "valid_from": None,
        "valid_until": None,
        "published_at": "2026-01-01T00:00:00Z",
        "ended_at": None,
        "end_reason": "",
        "cap_identifier": f"keng-vn-VN-{notice_id}",
        "cap_url": f"/cap/alerts/keng-vn-VN-{notice_id}.xml",
        "seq": 7,
    }
    item.update(fields)
    return item


async def test_pull_is_idempotent_and_keeps_the_cursor_on_failure(client, factory, app_rt):
    await factory.tree()
    item = _exchange_item()
    page = {
        "source": {"sender": "keng@central", "province": "38"},
        "items": [item],
        "cursor": "7",
        "more": False,
    }
    fake = FakeUpstreamClient(pages={"0": page})
    assert await pull(app_rt, fake) == 1
    # The same page again (a response lost before the cursor moved): nothing new, no second notice.
    fake.pages["7"] = page
    assert await pull(app_rt, fake) == 0
    row = await UpstreamNotice.select().where(UpstreamNotice.id == uuid.UUID(item["id"])).first()
    assert row["adoption"] == "auto"
    assert await Notice.count().where(Notice.priority == "emergency") == 1

    fake.down = True
    with pytest.raises(Exception, match="connection refused"):
        await pull(app_rt, fake)
    status = msgspec.json.decode(
        (
            await client.get(
                "/api/v1/upstream/status",
                headers=(await factory.user((Role.PROVINCE_APPROVER, "38"))).headers,
            )
        ).content
    )
    assert status["cursor"] == "7" and status["failures"] == 1 and status["notices"] == 1


@pytest.mark.parametrize("cut", ["before_local_notice", "before_publication"])
async def test_an_adoption_cut_off_by_a_crash_is_finished_once_after_the_lease(
    client, factory, app_rt, clock, monkeypatch, cut
):
    await factory.tree()
    item = _exchange_item(valid_until=(clock.now() + timedelta(days=2)).isoformat())
    page = {
        "source": {"sender": "keng@central", "province": "38"},
        "items": [item],
        "cursor": "7",
        "more": False,
    }
    fake = FakeUpstreamClient(pages={"0": page, "7": {**page, "items": []}})
    crash = SystemExit("process killed")  # not an Exception: nothing on the way cleans up

    async def killed(*args: Any, **kwargs: Any) -> Any:
        raise crash

    target = (notices, "create") if cut == "before_local_notice" else (flows, "emergency_publish")
    with monkeypatch.context() as patch:
        patch.setattr(*target, killed)
        with pytest.raises(SystemExit):
            await pull(app_rt, fake)
    row = await UpstreamNotice.select().where(UpstreamNotice.id == uuid.UUID(item["id"])).first()
    assert row["adoption"] == "adopting"
    assert (row["local_notice_id"] is None) == (cut == "before_local_notice")
    # Within the lease the claim may belong to a running adoption: left alone, even by a repeated page.
    assert await pull(app_rt, fake) == 0
    assert (await UpstreamNotice.select().where(UpstreamNotice.id == row["id"]).first())[
        "adoption"
    ] == "adopting"
    clock.advance(minutes=6)
    fake.down = True  # finishing it needs only the local database
    with pytest.raises(Exception, match="connection refused"):
        await pull(app_rt, fake)
    row = await UpstreamNotice.select().where(UpstreamNotice.id == row["id"]).first()
    assert row["adoption"] == "auto"
    local = await Notice.select().where(Notice.priority == "emergency")
    assert len(local) == 1 and local[0]["status"] == "published" and local[0]["id"] == row["local_notice_id"]
    fake.down = False
    assert await pull(app_rt, fake) == 0
    assert await Notice.count().where(Notice.priority == "emergency") == 1


async def test_an_update_or_cancel_of_an_adopted_notice_awaiting_approval_revises_it(
    client, factory, app_rt, clock
):
    await factory.tree()
    approver = await factory.user((Role.PROVINCE_APPROVER, "38"))
    until = (clock.now() + timedelta(days=2)).isoformat()
    first = _exchange_item(priority="normal", category="policy_law", valid_until=until, seq=1)
    source = {"sender": "keng@central", "province": "38"}
    fake = FakeUpstreamClient(pages={"0": {"source": source, "items": [first], "cursor": "1", "more": False}})
    await pull(app_rt, fake)
    adopted = await client.post(
        f"/api/v1/upstream/notices/{first['id']}/adopt", json={}, headers=approver.headers
    )
    assert adopted.status_code in (200, 201), adopted.text
    local_id = adopted.json()["id"]
    assert adopted.json()["status"] == "submitted"

    texts = {"vi": {"title": "Lịch tiêm chủng (sửa)", "body": "Đổi sang thứ Bảy.", "summary": ""}}
    update = _exchange_item(
        msg_type="update",
        references_id=first["id"],
        thread_id=first["thread_id"],
        version=2,
        priority="normal",
        category="policy_law",
        valid_until=until,
        texts=texts,
        seq=2,
    )
    fake.pages["1"] = {"source": source, "items": [update], "cursor": "2", "more": False}
    await pull(app_rt, fake)
    local = await Notice.select().where(Notice.id == uuid.UUID(local_id)).first()
    assert (
        local["status"] == "submitted"
        and json_column(local["texts"])["vi"]["title"] == "Lịch tiêm chủng (sửa)"
    )
    assert await Notice.count() == 1  # revised in place, not a second local notice
    row = await UpstreamNotice.select().where(UpstreamNotice.id == uuid.UUID(update["id"])).first()
    assert row["adoption"] == "followed" and str(row["local_notice_id"]) == local_id

    cancel = _exchange_item(
        msg_type="cancel",
        references_id=update["id"],
        thread_id=first["thread_id"],
        version=3,
        priority="normal",
        category="policy_law",
        valid_until=until,
        seq=3,
    )
    fake.pages["2"] = {"source": source, "items": [cancel], "cursor": "3", "more": False}
    await pull(app_rt, fake)
    local = await Notice.select().where(Notice.id == uuid.UUID(local_id)).first()
    assert local["status"] == "draft"  # out of the approval queue
