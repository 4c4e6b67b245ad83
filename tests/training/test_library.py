"""Staff side of the library: topics, materials and versions from files in the blob store, publishing,
withdrawing, who may do what, and bad input refused with a clear 4xx that changes nothing."""

from __future__ import annotations

import hashlib

from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.training.tables import TrainingMaterial, TrainingTopic, TrainingVersion
from tests.training.helpers import MAX_BYTES, material, mp3, mp4, odp, pdf, pptx, publish, topic, upload, webm


async def test_materials_with_versions_published_listed_and_audited(client, factory, tmp_path):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    await topic(client, editor)
    await topic(client, editor, "phong-chong-thien-tai", "Phòng, chống thiên tai")
    topics = await client.get("/api/v1/training/topics", headers=leader.headers)
    assert [t["name"] for t in topics.json()["items"]] == ["Chuyển đổi số", "Phòng, chống thiên tai"]

    slides = await upload(client, editor, tmp_path, pptx(), "bai-giang.pptx")
    deck = await material(
        client, editor, slides, kind="slides", level="advanced", topic="phong-chong-thien-tai", area="38001"
    )
    assert deck["current"] is None and deck["draft"]["mime"].endswith("presentationml.presentation")
    assert deck["draft"]["url"] == f"/api/v1/sync/blobs/{slides}/content"
    assert (deck["level_name"], deck["topic_name"]) == ("Nâng cao", "Phòng, chống thiên tai")
    sound = await upload(client, editor, tmp_path, mp3(), "bai-nghe.mp3")
    audio = await material(client, editor, sound, kind="audio", required=False)
    assert audio["draft"]["mime"] == "audio/mpeg"
    published = await publish(client, editor, deck["id"])
    assert published["status"] == "published" and published["current"]["number"] == 1

    listing = await client.get("/api/v1/training/materials", headers=leader.headers)
    assert [(m["id"], m["status"], m["number"]) for m in listing.json()["items"]] == [
        (deck["id"], "published", 1),
        (audio["id"], "draft", None),
    ]
    only_published = await client.get("/api/v1/training/materials?status=published", headers=editor.headers)
    assert [m["id"] for m in only_published.json()["items"]] == [deck["id"]]
    one = await client.get(f"/api/v1/training/materials/{deck['id']}", headers=leader.headers)
    assert one.status_code == 200 and one.json()["versions"][0]["sha256"] == slides
    # A leader of another commune does not see a material aimed at 38001.
    stranger = await factory.user((Role.COMMUNE_LEADER, "38002"))
    hidden = await client.get(f"/api/v1/training/materials/{deck['id']}", headers=stranger.headers)
    assert hidden.status_code == 404

    # A second upload before publishing takes the draft's place (drafts never reached a phone).
    first = await client.post(
        f"/api/v1/training/materials/{deck['id']}/versions",
        json={"sha256": await upload(client, editor, tmp_path, odp(), "b.odp")},
        headers=editor.headers,
    )
    assert first.status_code == 201 and first.json()["draft"]["number"] == 2
    second = await client.post(
        f"/api/v1/training/materials/{deck['id']}/versions",
        json={"sha256": await upload(client, editor, tmp_path, pdf(), "c.pdf"), "title": "Bài giảng (PDF)"},
        headers=editor.headers,
    )
    assert second.status_code == 201
    assert [(v["number"], v["status"], v["mime"]) for v in second.json()["versions"]] == [
        (2, "draft", "application/pdf"),
        (1, "current", deck["draft"]["mime"]),
    ]
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.action.like("training.%"))
        .order_by(AuditEntry.id)
    ]
    assert actions == [
        "training.topic_create",
        "training.topic_create",
        "training.create",
        "training.create",
        "training.publish",
        "training.version_create",
        "training.version_create",
    ]


async def test_every_kind_is_judged_by_its_content(client, factory, tmp_path):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    await topic(client, editor)
    cases = [
        ("video", mp4(), "video/mp4"),
        ("video", mp4(moov_last=True), "video/mp4"),
        ("video", webm(), "video/webm"),
        ("audio", mp4(handler=b"soun"), "audio/mp4"),
        ("document", pdf(), "application/pdf"),
        ("slides", pdf(seed=5), "application/pdf"),
    ]
    for i, (kind, data, mime) in enumerate(cases):
        sha = await upload(client, editor, tmp_path, data, f"f{i}")
        created = await material(client, editor, sha, kind=kind)
        assert created["draft"]["mime"] == mime and created["draft"]["size"] == len(data)


async def _nothing_written() -> None:
    assert await TrainingMaterial.count() == 0
    assert await TrainingVersion.count() == 0
    assert (
        await AuditEntry.count().where(AuditEntry.action.is_in(["training.create", "training.publish"])) == 0
    )


async def test_bad_files_and_fields_are_refused_and_change_nothing(client, factory, tmp_path):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    await topic(client, editor)
    base = {"topic": "chuyen-doi-so", "level": "basic", "kind": "document", "title": "Tài liệu"}

    async def refused(status: int, code: str, **fields):
        answer = await client.post(
            "/api/v1/training/materials", json={**base, **fields}, headers=editor.headers
        )
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["code"] == code
        await _nothing_written()
        return error

    sound = await upload(client, editor, tmp_path, mp3(), "a.mp3")
    wrong = await refused(415, "unsupported_media_type", sha256=sound)
    assert wrong["details"]["detected"] == "audio/mpeg" and wrong["details"]["allowed"] == ["application/pdf"]
    assert wrong["message"].startswith("Nội dung tệp không phải loại “tài liệu”")
    english = await client.post(
        "/api/v1/training/materials",
        json={**base, "sha256": sound},
        headers={**editor.headers, "Accept-Language": "en"},
    )
    assert english.json()["error"]["message"].startswith("The file's content is not document")
    sound_only = await upload(client, editor, tmp_path, mp4(handler=b"soun"), "a.m4a")
    wrong = await refused(415, "unsupported_media_type", sha256=sound_only, kind="video")
    assert wrong["details"]["detected"] == "audio/mp4"
    renamed = await upload(client, editor, tmp_path, b"MZ\x90\x00" + bytes(5000), "virus.pdf")
    assert (await refused(415, "unsupported_media_type", sha256=renamed))["details"]["detected"] == "unknown"

    big = await upload(client, editor, tmp_path, pdf(MAX_BYTES + 1), "big.pdf")
    too_big = await refused(413, "file_too_large", sha256=big)
    assert too_big["details"] == {"field": "sha256", "size": MAX_BYTES + 1, "max_bytes": MAX_BYTES}
    assert "quá lớn" in too_big["message"]

    document = await upload(client, editor, tmp_path, pdf(), "ok.pdf")
    unknown_topic = await refused(422, "validation_failed", sha256=document, topic="khong-co")
    assert unknown_topic["details"][0]["field"] == "topic"
    assert (await refused(422, "validation_failed", sha256=document, area="99999"))["details"][0][
        "field"
    ] == "area"
    await refused(400, "invalid_input", sha256=document, level="expert")
    never = hashlib.sha256(b"never uploaded").hexdigest()
    missing = await refused(422, "file_missing", sha256=never)
    assert missing["message"] == "Chưa có tệp với mã băm này; hãy tải tệp lên kho tệp trước."
    data = pdf(seed=8)
    pending = hashlib.sha256(data).hexdigest()
    declared = await client.post(
        "/api/v1/sync/blobs", json={"sha256": pending, "size": len(data)}, headers=editor.headers
    )
    assert declared.status_code == 201
    await refused(409, "blob_pending", sha256=pending)

    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    answer = await client.post(
        "/api/v1/training/materials", json={**base, "sha256": document}, headers=official.headers
    )
    assert answer.status_code == 403
    neighbour = await factory.user((Role.PROVINCE_EDITOR, "40"))
    answer = await client.post(
        "/api/v1/training/materials",
        json={**base, "sha256": document, "area": "38001"},
        headers=neighbour.headers,
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_area"
    await _nothing_written()


async def test_versions_and_steps_refused_in_the_wrong_state_or_hands(client, factory, tmp_path):
    await factory.tree()
    editor = await factory.user((Role.PROVINCE_EDITOR, "38"))
    neighbour = await factory.user((Role.PROVINCE_EDITOR, "40"))
    await topic(client, editor)
    document = await upload(client, editor, tmp_path, pdf(), "a.pdf")
    created = await material(client, editor, document)
    path = f"/api/v1/training/materials/{created['id']}"
    withdraw = await client.post(f"{path}/withdraw", json={}, headers=editor.headers)
    assert withdraw.status_code == 409 and withdraw.json()["error"]["code"] == "invalid_state"
    assert (await client.post(f"{path}/publish", headers=neighbour.headers)).status_code == 403
    await publish(client, editor, created["id"])
    nothing = await client.post(f"{path}/publish", headers=editor.headers)
    assert nothing.status_code == 409 and "không thể publish" in nothing.json()["error"]["message"]

    video = await upload(client, editor, tmp_path, mp4(), "v.mp4")
    before = await client.get(path, headers=editor.headers)
    wrong = await client.post(f"{path}/versions", json={"sha256": video}, headers=editor.headers)
    assert wrong.status_code == 415  # a document stays a document unless the kind is given
    assert (await client.get(path, headers=editor.headers)).json() == before.json()
    ok = await client.post(
        f"{path}/versions", json={"sha256": video, "kind": "video"}, headers=editor.headers
    )
    assert ok.status_code == 201 and ok.json()["draft"]["kind"] == "video"
    unknown = await client.post(
        "/api/v1/training/materials/00000000-0000-0000-0000-000000000000/publish", headers=editor.headers
    )
    assert unknown.status_code == 404
    duplicate = await client.post(
        "/api/v1/training/topics", json={"code": "chuyen-doi-so", "name": "Khác"}, headers=editor.headers
    )
    assert duplicate.status_code == 409 and await TrainingTopic.count() == 1
    official = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.get("/api/v1/training/topics", headers=official.headers)).status_code == 200
    drafts = await client.get("/api/v1/training/materials", headers=official.headers)
    assert drafts.status_code == 403  # officials get published materials through sync, never drafts
    citizen = await factory.user(kind="citizen")
    assert (await client.get("/api/v1/training/topics", headers=citizen.headers)).status_code == 403
    assert (await client.get("/api/v1/training/topics")).status_code == 401
