"""End to end with the reference offline client against the real app: staff publish a material, an
official's phone syncs the catalogue, downloads the file (cut, killed, resumed), marks it studied
without signal, syncs, and the coverage report counts it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.training.tables import TrainingCompletion
from mobile_client_py.offline import Killed
from mobile_client_py.training import TrainingShelf
from tests.sync.helpers import phone
from tests.training.helpers import material, mp4, pdf, publish, topic, upload

PIECE = 32 * 1024


@pytest.fixture
async def people(factory):
    await factory.tree()
    return {
        "editor": await factory.user((Role.PROVINCE_EDITOR, "38")),
        "official": await factory.user((Role.COMMUNE_OFFICIAL, "38001")),
        "colleague": await factory.user((Role.COMMUNE_OFFICIAL, "38002")),
        "elsewhere": await factory.user((Role.COMMUNE_OFFICIAL, "40001")),
    }


async def test_study_offline_then_the_report_counts_it(client, people, tmp_path):
    editor, official = people["editor"], people["official"]
    await topic(client, editor)
    document = pdf(200 * 1024)
    sha = await upload(client, editor, tmp_path, document, "so-tay.pdf")
    everyone = await material(client, editor, sha)  # province-wide: the province is the default area
    assert everyone["area_code"] == "38" and everyone["status"] == "draft"
    await publish(client, editor, everyone["id"])
    video = mp4(size=150 * 1024)
    video_sha = await upload(client, editor, tmp_path, video, "video.mp4")
    targeted = await material(
        client, editor, video_sha, kind="video", area="38002", title="Video hướng dẫn phường Hạc Thành"
    )
    await publish(client, editor, targeted["id"])

    # The official's phone takes the catalogue: the province-wide material, not 38002's.
    store = tmp_path / "official.db"
    first = phone(client.app, store, official)
    await first.sync()
    shelf = TrainingShelf(first, tmp_path / "files", piece=PIECE)
    [item] = shelf.catalogue()
    assert item["id"] == everyone["id"]
    assert item["title"] == "Hướng dẫn sử dụng ứng dụng Kẻng cho cán bộ xã"
    assert (item["sha256"], item["size"], item["mime"]) == (sha, len(document), "application/pdf")
    assert (item["topic_name"], item["level_name"], item["number"]) == ("Chuyển đổi số", "Cơ bản", 1)
    assert not item["downloaded"] and not item["studied_current"]

    # The download: an answer cut in half, a connection lost, then the phone is killed.
    pieces = []

    def kill_on_fourth(point: str) -> None:
        if point == "blob_download":
            pieces.append(point)
            if len(pieces) == 4:
                raise Killed()

    flaky = phone(client.app, store, official, ["ok", "truncate", "cut_response"], hook=kill_on_fourth)
    with pytest.raises(Killed):
        await TrainingShelf(flaky, tmp_path / "files", piece=PIECE).download(everyone["id"])
    shelf_after = TrainingShelf(phone(client.app, store, official), tmp_path / "files", piece=PIECE)
    held = shelf_after.downloads.held(sha)
    assert 0 < held < len(document)
    report = await shelf_after.download(everyone["id"])
    assert report.completed == 1 and report.resumed_from == held and report.restarts == 0
    assert report.bytes_received == len(document) - held
    saved = shelf_after.file(everyone["id"])
    assert saved is not None and saved.read_bytes() == document
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == sha

    # Studied without signal: the mark waits in the queue, marking again changes nothing.
    offline = TrainingShelf(phone(client.app, store, official), tmp_path / "files", piece=PIECE)
    studied_at = datetime.now(UTC)
    mark = offline.mark_studied(everyone["id"], studied_at)
    assert offline.mark_studied(everyone["id"]) == mark
    assert len(offline.official.store.pending()) == 1
    assert await TrainingCompletion.count() == 0
    sync = await offline.official.sync()
    assert sync.applied == 1 and sync.rejected == 0
    [row] = await TrainingCompletion.select()
    assert str(row["id"]) == mark and row["account"] == official.id and row["number"] == 1
    assert abs(row["completed_at"] - studied_at) < timedelta(seconds=1)
    [entry] = await AuditEntry.select().where(AuditEntry.action == "training.complete")
    assert entry["target_id"] == mark and entry["actor_id"] == official.id
    [item] = offline.catalogue()
    assert item["studied_current"] and item["counted"] and item["downloaded"]

    coverage = await client.get("/api/v1/training/coverage", params={"area": "38"}, headers=editor.headers)
    assert coverage.status_code == 200, coverage.text
    body = coverage.json()
    assert [m["id"] for m in body["materials"]] == [everyone["id"], targeted["id"]]
    total = body["total"]
    assert (total["officials"], total["trained"], total["share"]) == (2, 1, 50.0)
    by_material = {f["material"]: f for f in total["materials"]}
    assert by_material[everyone["id"]] == {
        "material": everyone["id"],
        "eligible": 2,
        "completed": 1,
        "share": 50.0,
    }
    assert by_material[targeted["id"]]["eligible"] == 1 and by_material[targeted["id"]]["completed"] == 0
    rows = {r["area_code"]: r for r in body["areas"]}
    assert (rows["38001"]["officials"], rows["38001"]["trained"], rows["38001"]["share"]) == (1, 1, 100.0)
    assert (rows["38002"]["officials"], rows["38002"]["trained"], rows["38002"]["share"]) == (1, 0, 0.0)

    # The colleague in 38002 sees both; the official of another province sees nothing.
    colleague = phone(client.app, tmp_path / "colleague.db", people["colleague"])
    await colleague.sync()
    assert set(colleague.rows("training_material")) == {everyone["id"], targeted["id"]}
    assert colleague.rows("training_completion") == {}
    elsewhere = phone(client.app, tmp_path / "elsewhere.db", people["elsewhere"])
    await elsewhere.sync(verify=True)
    assert elsewhere.rows("training_material") == {}


async def test_a_new_version_supersedes_and_retraining_starts_the_count_afresh(client, people, tmp_path):
    editor, official = people["editor"], people["official"]
    await topic(client, editor)
    v1 = await upload(client, editor, tmp_path, pdf(seed=1), "v1.pdf")
    created = await material(client, editor, v1, area="38001")
    await publish(client, editor, created["id"])
    official_phone = phone(client.app, tmp_path / "o.db", official)
    shelf = TrainingShelf(official_phone, tmp_path / "files", piece=PIECE)
    await official_phone.sync()
    shelf.mark_studied(created["id"])
    await official_phone.sync()

    # A corrected version: same material on the phone, new file; the v1 mark still counts.
    v2 = await upload(client, editor, tmp_path, pdf(seed=2), "v2.pdf")
    answer = await client.post(
        f"/api/v1/training/materials/{created['id']}/versions",
        json={"sha256": v2, "title": "Hướng dẫn (bản sửa lỗi chính tả)"},
        headers=editor.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["draft"]["number"] == 2 and answer.json()["current"]["number"] == 1
    await official_phone.sync()
    assert shelf.material(created["id"])["number"] == 1  # a draft never reaches phones
    body = await publish(client, editor, created["id"])
    assert [(v["number"], v["status"]) for v in body["versions"]] == [(2, "current"), (1, "superseded")]
    await official_phone.sync()
    [item] = shelf.catalogue()
    assert (item["number"], item["sha256"], item["title"]) == (2, v2, "Hướng dẫn (bản sửa lỗi chính tả)")
    assert not item["studied_current"] and item["counted"]
    coverage = (await client.get("/api/v1/training/coverage?area=38001", headers=editor.headers)).json()
    assert coverage["total"]["trained"] == 1

    # A version that changes the substance: earlier marks stop counting until studied again.
    v3 = await upload(client, editor, tmp_path, pdf(seed=3), "v3.pdf")
    answer = await client.post(
        f"/api/v1/training/materials/{created['id']}/versions",
        json={"sha256": v3, "retrain": True},
        headers=editor.headers,
    )
    assert answer.status_code == 201
    await publish(client, editor, created["id"])
    await official_phone.sync()
    [item] = shelf.catalogue()
    assert item["number"] == 3 and item["counts_from"] == 3 and not item["counted"]
    coverage = (await client.get("/api/v1/training/coverage?area=38001", headers=editor.headers)).json()
    assert coverage["total"]["trained"] == 0 and coverage["materials"][0]["completion_from"] == 3
    shelf.mark_studied(created["id"])
    await official_phone.sync()
    assert shelf.catalogue()[0]["counted"]
    coverage = (await client.get("/api/v1/training/coverage?area=38001", headers=editor.headers)).json()
    assert coverage["total"]["trained"] == 1
    assert sorted(r["number"] for r in await TrainingCompletion.select()) == [1, 3]


async def test_withdrawn_materials_leave_the_phones_and_completions_stay(client, people, tmp_path):
    editor, official = people["editor"], people["official"]
    await topic(client, editor)
    sha = await upload(client, editor, tmp_path, pdf(), "a.pdf")
    created = await material(client, editor, sha)
    await publish(client, editor, created["id"])
    official_phone = phone(client.app, tmp_path / "o.db", official)
    await official_phone.sync()
    TrainingShelf(official_phone, tmp_path / "f").mark_studied(created["id"])
    await official_phone.sync()

    answer = await client.post(
        f"/api/v1/training/materials/{created['id']}/withdraw",
        json={"reason": "Nội dung đã cũ"},
        headers=editor.headers,
    )
    assert answer.status_code == 200 and answer.json()["status"] == "withdrawn"
    await official_phone.sync(verify=True)
    assert official_phone.rows("training_material") == {}
    assert len(official_phone.rows("training_completion")) == 1
    assert await TrainingCompletion.count() == 1
    again = await client.post(
        f"/api/v1/training/materials/{created['id']}/withdraw", json={}, headers=editor.headers
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"

    await publish(client, editor, created["id"])  # published again as it was
    await official_phone.sync()
    assert list(official_phone.rows("training_material")) == [created["id"]]
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.target_id == created["id"])
        .order_by(AuditEntry.id)
    ]
    assert actions == ["training.create", "training.publish", "training.withdraw", "training.publish"]


async def test_a_second_phone_cannot_move_the_first_completion(client, people, tmp_path):
    editor, official = people["editor"], people["official"]
    await topic(client, editor)
    sha = await upload(client, editor, tmp_path, pdf(), "a.pdf")
    created = await material(client, editor, sha)
    await publish(client, editor, created["id"])
    a = phone(client.app, tmp_path / "a.db", official)
    b = phone(client.app, tmp_path / "b.db", official)
    await a.sync()
    await b.sync()
    # Both phones offline; the second was studied earlier but syncs later.
    first_time = datetime.now(UTC)
    mark_a = TrainingShelf(a, tmp_path / "fa").mark_studied(created["id"], first_time)
    TrainingShelf(b, tmp_path / "fb").mark_studied(created["id"], first_time - timedelta(seconds=30))
    await a.sync()
    report = await b.sync()
    assert report.rejected == 1
    [rejected] = b.rejected()
    assert rejected["answer"]["err"]["code"] == "already_completed"
    assert rejected["answer"]["err"]["details"]["id"] == mark_a
    assert "lần đánh dấu đầu tiên được giữ nguyên" in rejected["answer"]["err"]["message"]
    [row] = await TrainingCompletion.select()
    assert str(row["id"]) == mark_a and abs(row["completed_at"] - first_time) < timedelta(seconds=1)
    # Phone B ends up with the server's mark: the material is studied there too.
    assert list(b.rows("training_completion")) == [mark_a]
    assert TrainingShelf(b, tmp_path / "fb").catalogue()[0]["studied_current"]


async def test_marks_are_never_edited_undone_or_made_for_others(client, people, tmp_path):
    editor, official = people["editor"], people["official"]
    await topic(client, editor)
    sha = await upload(client, editor, tmp_path, pdf(), "a.pdf")
    province = await material(client, editor, sha)
    await publish(client, editor, province["id"])
    other_sha = await upload(client, editor, tmp_path, pdf(seed=9), "b.pdf")
    theirs = await publish(client, editor, (await material(client, editor, other_sha, area="38002"))["id"])
    draft = await material(client, editor, other_sha, title="Bản nháp")

    official_phone = phone(client.app, tmp_path / "o.db", official)
    await official_phone.sync()
    future = datetime.now(UTC) + timedelta(days=3)
    mark = TrainingShelf(official_phone, tmp_path / "f").mark_studied(province["id"], future)
    await official_phone.sync()
    [row] = await TrainingCompletion.select()
    assert row["completed_at"] <= datetime.now(UTC)  # a phone's wrong clock never dates a mark ahead
    assert official_phone.rows("training_completion")[mark]["completed_at"] == row["completed_at"].isoformat()

    official_phone.update("training_completion", mark, {"completed_at": "2020-01-01T00:00:00+07:00"})
    official_phone.delete("training_completion", mark)
    official_phone.create(
        "training_completion",
        {"version": theirs["current"]["id"], "completed_at": datetime.now(UTC).isoformat()},
    )
    official_phone.create(
        "training_completion",
        {"version": draft["draft"]["id"], "completed_at": datetime.now(UTC).isoformat()},
    )
    official_phone.create("training_completion", {"version": province["id"]})
    await official_phone.sync()
    codes = [m["answer"]["err"]["code"] for m in official_phone.rejected()]
    assert codes == [
        "validation_failed",
        "not_deletable",
        "out_of_area",
        "validation_failed",
        "validation_failed",
    ]
    assert await TrainingCompletion.count() == 1
    assert (await TrainingCompletion.select().first())["completed_at"] == row["completed_at"]
    # Each official sees only their own marks.
    colleague = phone(client.app, tmp_path / "c.db", people["colleague"])
    await colleague.sync(verify=True)
    assert colleague.rows("training_completion") == {}
