"""Two Kẻng instances exchanging over real HTTP: the one under test follows a second one, started
as its own process with its own database. Notices flow down (identity and versions kept, updates
and cancellations followed, emergencies published at once, adoption by an approver); signed
statistics flow up, idempotent by period; an upstream outage is survived and caught up."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backend.adapters.clock import FakeClock
from backend.adapters.upstream import UpstreamUnavailable
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.core.notices.tables import Notice
from backend.lib.crypto import b64url, b64url_decode, public_key_b64
from backend.settings import Settings
from backend.upstream import pull, push_reports
from backend.upstream.tables import UpstreamNotice, UpstreamReport
from tests.factories import Factory
from tests.upstream.instance import PASSWORD, STAFF_PASSWORD, KengProcess, Staff

LATER = (datetime.now(UTC) + timedelta(days=3)).isoformat()


@pytest.fixture
def clock() -> FakeClock:
    """Start at 01:00 Vietnam time so the daily report periods do not depend on when the test runs."""
    vietnam = timezone(timedelta(hours=7))
    tomorrow = datetime.now(vietnam).date() + timedelta(days=1)
    return FakeClock(datetime.combine(tomorrow, time(1, 0), tzinfo=vietnam).astimezone(UTC))


@pytest.fixture
async def upstream(tmp_path: Path) -> AsyncIterator[KengProcess]:
    instance = KengProcess(tmp_path / "upstream")
    instance.prepare()
    await instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def settings(settings: Settings, upstream: KengProcess) -> Settings:
    return settings.with_(
        upstream_url=upstream.url, upstream_auto_publish_emergency=True, upstream_report_backfill_days=2
    )


def body(title: str, targets: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "category": extra.pop("category", "health"),
        "priority": extra.pop("priority", "normal"),
        "target_areas": targets,
        "texts": {"vi": {"title": title, "body": f"{title}: nội dung chi tiết.", "summary": title}},
        "valid_until": LATER,
        **extra,
    }


async def central_staff(upstream: KengProcess) -> tuple[Staff, Staff]:
    admin = await Staff.login(upstream.url, "quantri", PASSWORD)
    await admin.call(
        "POST",
        "/api/v1/accounts",
        201,
        json={
            "username": "bientap.trunguong",
            "password": STAFF_PASSWORD,
            "full_name": "Biên tập trung ương",
            "grants": [{"role": "province_approver", "area_code": "VN"}],
        },
    )
    return admin, await Staff.login(upstream.url, "bientap.trunguong", STAFF_PASSWORD)


async def test_two_instances_exchange_notices_and_reports(upstream, client, factory: Factory, app_rt, clock):
    await factory.tree()
    approver = await factory.user((Role.PROVINCE_APPROVER, "38"))
    admin, central = await central_staff(upstream)
    key = app_rt.province_keys.current
    await admin.call(
        "PUT",
        "/api/v1/federation/downstreams/38",
        json={"name": "Kẻng Thanh Hóa", "keys": [{"kid": key.kid, "public_key": public_key_b64(key)}]},
    )

    # --- notices flow down ----------------------------------------------------------------------
    province_wide = await central.publish(body("Lịch tiêm chủng toàn tỉnh", ["38"]))
    flood = await central.publish(
        body("Lũ quét xã Hoằng Hóa", ["38001"], priority="emergency", category="disaster")
    )
    await central.publish(body("Tin riêng Nghệ An", ["40001"]))
    national = await central.publish(body("Thông báo toàn quốc", ["VN"], category="policy_law"))

    assert await pull(app_rt) == 3
    stored = {str(r["id"]): r for r in await UpstreamNotice.select()}
    assert set(stored) == {province_wide["id"], flood["id"], national["id"]}  # not Nghệ An's
    row = stored[province_wide["id"]]
    assert (str(row["thread_id"]), row["version"], row["status"]) == (
        province_wide["thread_id"],
        1,
        "published",
    )
    assert row["cap_identifier"] == f"keng-vn-VN-{province_wide['id']}"
    assert row["sender"] == "keng@tinhVN.local"

    # The emergency is published here at once, by the upstream link, audited.
    auto = stored[flood["id"]]
    assert auto["adoption"] == "auto"
    local_flood = await Notice.select().where(Notice.id == auto["local_notice_id"]).first()
    assert local_flood["status"] == "published" and local_flood["priority"] == "emergency"
    assert json.loads(local_flood["texts"])["vi"]["title"] == "Lũ quét xã Hoằng Hóa"
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.target_id == str(auto["local_notice_id"])
        )
    ]
    assert actions == ["notice.create", "notice.emergency_publish"]

    # The others wait for an approver; adopting goes through the lifecycle and is audited.
    waiting = await client.get("/api/v1/upstream/notices?adoption=none", headers=approver.headers)
    assert {i["id"] for i in waiting.json()["items"]} == {province_wide["id"], national["id"]}
    adopted = await client.post(
        f"/api/v1/upstream/notices/{province_wide['id']}/adopt",
        json={"publish": True},
        headers=approver.headers,
    )
    assert adopted.status_code == 201, adopted.text
    local = adopted.json()
    assert local["status"] == "published" and local["target_areas"] == ["38"]
    again = await client.post(
        f"/api/v1/upstream/notices/{province_wide['id']}/adopt", json={}, headers=approver.headers
    )
    assert again.status_code == 409
    nation_local = await client.post(
        f"/api/v1/upstream/notices/{national['id']}/adopt", json={}, headers=approver.headers
    )
    assert nation_local.json()["target_areas"] == ["38"] and nation_local.json()["status"] == "submitted"
    commune_official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    refused = await client.post(
        f"/api/v1/upstream/notices/{national['id']}/adopt", json={}, headers=commune_official.headers
    )
    assert refused.status_code == 403
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "upstream.adopt") & (AuditEntry.target_id == province_wide["id"])
    )

    # Updates and cancellations upstream follow here.
    update = await central.call(
        "POST",
        f"/api/v1/notices/{province_wide['id']}/versions",
        201,
        json={
            "msg_type": "update",
            "texts": {"vi": {"title": "Lịch tiêm chủng (đổi giờ)", "body": "Đổi sang 8h."}},
        },
    )
    update = await central.lifecycle(update["id"])
    cancel = await central.call(
        "POST",
        f"/api/v1/notices/{flood['id']}/versions",
        201,
        json={"msg_type": "cancel", "reason": "Nước đã rút"},
    )
    await central.lifecycle(cancel["id"])
    assert await pull(app_rt) == 2
    followed = await UpstreamNotice.select().where(UpstreamNotice.id == uuid.UUID(update["id"])).first()
    assert followed["version"] == 2 and str(followed["references_id"]) == province_wide["id"]
    local_update = await Notice.select().where(Notice.id == followed["local_notice_id"]).first()
    assert (local_update["msg_type"], local_update["status"]) == ("update", "submitted")
    assert str(local_update["references_id"]) == local["id"]  # a local version of the adopted notice
    assert (await Notice.select().where(Notice.id == auto["local_notice_id"]).first())[
        "status"
    ] == "withdrawn"
    assert (await UpstreamNotice.select().where(UpstreamNotice.id == uuid.UUID(province_wide["id"])).first())[
        "status"
    ] == "superseded"

    # --- statistics flow up, signed ---------------------------------------------------------------
    first = await push_reports(app_rt)
    assert len(first["made"]) == 2 and len(first["sent"]) == 2
    received = await admin.call("GET", "/api/v1/federation/downstreams/38/reports")
    assert sorted(r["period"] for r in received["items"]) == sorted(first["made"])
    assert all(r["kid"] == key.kid for r in received["items"])
    figures = received["items"][0]["payload"]["figures"]
    assert {"devices", "notices", "sms", "feedback"} <= set(figures)

    # The upstream takes only what the registered key signed.
    report = await UpstreamReport.select().where(UpstreamReport.period == first["made"][0]).first()
    envelope = json.loads(report["envelope"])
    again = await admin.http.post("/federation/v1/reports", content=report["envelope"])
    assert again.json()["status"] == "duplicate"
    payload = json.loads(b64url_decode(envelope["payload"]))
    payload["figures"]["sms"]["sent"] = 999_999
    forged = {**envelope, "payload": b64url(json.dumps(payload).encode())}
    assert (await admin.http.post("/federation/v1/reports", json=forged)).status_code == 403
    stranger = {**envelope, "kid": "0123456789abcdef"}
    assert (await admin.http.post("/federation/v1/reports", json=stranger)).status_code == 403

    # --- an outage, and the catch-up --------------------------------------------------------------
    missed = await central.publish(body("Cắt nước thôn Đông", ["38001-01"]))
    upstream.stop()
    with pytest.raises(UpstreamUnavailable):
        await pull(app_rt)
    status = (await client.get("/api/v1/upstream/status", headers=approver.headers)).json()
    assert status["failures"] == 1 and status["last_error"]
    clock.advance(days=1)
    outage = await push_reports(app_rt)
    assert len(outage["made"]) == 1 and outage["sent"] == [] and outage["error"]
    pending = await UpstreamReport.select().where(UpstreamReport.status == "pending")
    assert [r["period"] for r in pending] == outage["made"] and pending[0]["attempts"] == 1

    await upstream.start()
    await central.aclose()
    central = await Staff.login(upstream.url, "bientap.trunguong", STAFF_PASSWORD)
    after = await central.publish(body("Họp dân phường Hạc Thành", ["38002"]))
    clock.advance(hours=7)  # past the report's backoff
    fresh = {"Authorization": f"Bearer {factory.token(approver.id)}"}  # the clock has moved a day
    synced = await client.post("/api/v1/upstream/sync", headers=fresh)
    assert synced.status_code == 200, synced.text
    status = synced.json()
    assert status["failures"] == 0 and status["reports_pending"] == 0 and status["reports_accepted"] == 3
    ids = {str(r["id"]) for r in await UpstreamNotice.select(UpstreamNotice.id)}
    assert {missed["id"], after["id"]} <= ids
    received = await admin.call("GET", "/api/v1/federation/downstreams/38/reports")
    assert len(received["items"]) == 3
    await admin.aclose()
    await central.aclose()
