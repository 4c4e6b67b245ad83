"""Submitting feedback: validation, media checked by content, idempotent retries, rate limits."""

import asyncio
import json
from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.citizen.feedback import media
from backend.citizen.feedback.services import SubmitLimits
from backend.core.accounts.permissions import Role
from backend.lib.ratelimit import RateLimiter
from tests.citizen.feedback.helpers import JPEG, OGG_OPUS, PDF, PNG, WEBP, citizen, counts, report

URL = "/api/v1/citizen/feedback"


@pytest.fixture
def settings(settings):
    return settings.with_(
        feedback_max_media_bytes=64 * 1024, feedback_device_rate_per_hour=3, feedback_ip_rate_per_minute=1000
    )


@pytest.fixture
def clock():
    """Fixed time, mid-window, so rate-limit windows never roll over during a test."""
    return FakeClock(datetime(2026, 3, 2, 9, 20, tzinfo=UTC))


def multipart(body, photos=(), voice=None):
    files = [("photos", (name, data, "image/jpeg")) for name, data in photos]
    if voice is not None:
        files.append(("voice", voice))
    return {"data": {"feedback": json.dumps(body)}, "files": files}


async def test_submit_then_retry_returns_the_same_report(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    body = report(lat=19.8, long=105.77, address="Thôn Đông, gần cổng trường")
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["status"] == "received" and stored["status_group"] == "open"
    assert stored["area_name"] == "Thôn Đông" and stored["anonymous"] is True
    assert [e["kind"] for e in stored["history"]] == ["submitted"]
    again = await client.post(URL, json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == stored
    assert await counts() == (1, 0, 1)


async def test_same_client_id_with_other_content_is_a_conflict(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    body = report()
    assert (await client.post(URL, json=body, headers=headers)).status_code == 201
    changed = await client.post(URL, json={**body, "text": "Nội dung khác"}, headers=headers)
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "client_id_reused"
    # Another citizen may use the same client id: ids are per account.
    other, _ = await citizen(client)
    assert (await client.post(URL, json=body, headers=other)).status_code == 201


async def test_photos_are_stored_once_per_hash(client, factory, settings):
    await factory.tree()
    headers, _ = await citizen(client)
    body = report()
    sent = multipart(body, photos=[("a.jpg", JPEG), ("b.png", PNG), ("c.webp", WEBP), ("again.jpg", JPEG)])
    response = await client.post(f"{URL}/with-media", headers=headers, **sent)
    assert response.status_code == 201, response.text
    items = response.json()["media"]
    assert [m["mime"] for m in items] == ["image/jpeg", "image/png", "image/webp", "image/jpeg"]
    assert items[0]["sha256"] == items[3]["sha256"]
    files = sorted(p.name for p in (settings.media_dir / "feedback").rglob("*") if p.is_file())
    assert len(files) == 3
    stored = media.media_path(settings.media_dir, items[0]["sha256"])
    assert stored.read_bytes() == JPEG
    retry = await client.post(f"{URL}/with-media", headers=headers, **sent)
    assert retry.status_code == 200 and retry.json()["id"] == response.json()["id"]
    assert await counts() == (1, 4, 1)


async def test_voice_note(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    sent = multipart(report(), voice=("ghi-am.m4a", OGG_OPUS, "audio/mp4"))
    response = await client.post(f"{URL}/with-media", headers=headers, **sent)
    assert response.status_code == 201, response.text
    assert response.json()["media"] == [
        {
            "kind": "voice",
            "mime": "audio/ogg",
            "size": len(OGG_OPUS),
            "sha256": response.json()["media"][0]["sha256"],
        }
    ]


async def test_a_pdf_named_jpg_is_refused_and_nothing_is_stored(client, factory, settings):
    await factory.tree()
    headers, _ = await citizen(client)
    sent = multipart(report(), photos=[("ok.jpg", JPEG), ("anh.jpg", PDF)])
    response = await client.post(f"{URL}/with-media", headers=headers, **sent)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["details"]["field"] == "photos[1]" and error["details"]["detected"] == "unknown"
    assert await counts() == (0, 0, 0)
    assert not (settings.media_dir / "feedback").exists()


async def test_audio_as_photo_and_photo_as_voice_are_refused(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    as_photo = await client.post(
        f"{URL}/with-media", headers=headers, **multipart(report(), photos=[("a.jpg", OGG_OPUS)])
    )
    assert as_photo.status_code == 415 and as_photo.json()["error"]["details"]["detected"] == "audio/ogg"
    as_voice = await client.post(
        f"{URL}/with-media", headers=headers, **multipart(report(), voice=("v.ogg", JPEG))
    )
    assert as_voice.status_code == 415 and as_voice.json()["error"]["details"]["field"] == "voice"
    assert await counts() == (0, 0, 0)


async def test_too_many_or_mixed_media_are_refused(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    six = multipart(report(), photos=[(f"{i}.jpg", JPEG + bytes([i])) for i in range(6)])
    response = await client.post(f"{URL}/with-media", headers=headers, **six)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "photos"
    mixed = multipart(report(), photos=[("a.jpg", JPEG)], voice=("v.ogg", OGG_OPUS))
    response = await client.post(f"{URL}/with-media", headers=headers, **mixed)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "voice"
    assert await counts() == (0, 0, 0)


async def test_oversize_file_and_text_are_refused(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    big = JPEG + bytes(64 * 1024)
    response = await client.post(
        f"{URL}/with-media", headers=headers, **multipart(report(), photos=[("big.jpg", big)])
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"] == {
        "field": "photos[0]",
        "size": len(big),
        "max_bytes": 64 * 1024,
    }
    long_text = await client.post(URL, json=report(text="x" * 4001), headers=headers)
    assert long_text.status_code == 400
    assert long_text.json()["error"]["details"][0]["field"] == "text"
    in_form = await client.post(
        f"{URL}/with-media", headers=headers, **multipart(report(text="x" * 4001), photos=[("a.jpg", JPEG)])
    )
    assert in_form.status_code == 400 and "4000" in in_form.json()["error"]["details"][0]["reason"]
    exactly = await client.post(URL, json=report(text="đ" * 4000), headers=headers)
    assert exactly.status_code == 201
    assert await counts() == (1, 0, 1)


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"area_code": "99999"}, 422, "area_code"),
        ({"category": "no_such_category"}, 422, "category"),
        ({"area_code": None}, 422, "area_code"),
        ({"area_code": None, "lat": 19.8}, 422, "long"),
        ({"lat": 91.0, "long": 105.0}, 400, "lat"),
        ({"text": "   "}, 422, "text"),
        ({"client_id": "short"}, 400, "client_id"),
        ({"surprise": 1}, 400, "surprise"),
    ],
)
async def test_bad_reports_get_a_precise_error_and_change_nothing(client, factory, change, status, field):
    await factory.tree()
    headers, _ = await citizen(client)
    body = {k: v for k, v in report(**change).items() if v is not None}
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == status, response.text
    details = response.json()["error"]["details"]
    assert any(field in d["field"] or field in d["reason"] for d in details), details
    assert await counts() == (0, 0, 0)


async def test_malformed_feedback_part(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    response = await client.post(
        f"{URL}/with-media",
        headers=headers,
        data={"feedback": "{not json"},
        files=[("photos", ("a.jpg", JPEG))],
    )
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "feedback"
    assert await counts() == (0, 0, 0)


async def test_only_citizens_submit(client, factory):
    await factory.tree()
    staff = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    assert (await client.post(URL, json=report(), headers=staff.headers)).status_code == 403
    assert (await client.post(URL, json=report())).status_code == 401


async def test_device_rate_limit_never_refuses_a_retry(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    accepted = [report() for _ in range(3)]
    for body in accepted:
        assert (await client.post(URL, json=body, headers=headers)).status_code == 201
    refused = await client.post(URL, json=report(), headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["details"]["retry_after"] >= 1
    # A retry of an accepted report is answered, not counted.
    for body in accepted:
        assert (await client.post(URL, json=body, headers=headers)).status_code == 200
    # Another phone is not affected by this one's limit.
    other, _ = await citizen(client)
    assert (await client.post(URL, json=report(), headers=other)).status_code == 201
    assert (await counts())[0] == 4


async def test_address_rate_limit(client, factory):
    await factory.tree()
    client.app.state.feedback_limits = SubmitLimits(
        per_device=RateLimiter(100, window_seconds=3600), per_addr=RateLimiter(2, window_seconds=60)
    )
    phones = [await citizen(client) for _ in range(3)]
    assert (await client.post(URL, json=report(), headers=phones[0][0])).status_code == 201
    assert (await client.post(URL, json=report(), headers=phones[1][0])).status_code == 201
    refused = await client.post(URL, json=report(), headers=phones[2][0])
    assert refused.status_code == 429 and "retry-after" in refused.headers


async def test_concurrent_retries_make_one_report(client, factory):
    await factory.tree()
    headers, _ = await citizen(client)
    body = report()
    responses = await asyncio.gather(*(client.post(URL, json=body, headers=headers) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await counts() == (1, 0, 1)
