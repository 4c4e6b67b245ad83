"""Push adapter pieces without a database: VAPID keys and signing, Retry-After, TTL, payload size,
answer classification, and the keep-alive HTTP client against a loopback server."""

from __future__ import annotations

import asyncio
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.adapters.http1 import Http1Client, HttpError, HttpResponse, Origin, split_url
from backend.adapters.push import (
    PushOptions,
    VapidKeys,
    VapidSigner,
    b64url_decode,
    classify_http,
    parse_retry_after,
)
from backend.citizen.push.channel import MAX_PAYLOAD, MAX_TTL, message_for, options_for, ttl_for


def test_vapid_keys_are_created_once_and_kept_private(tmp_path):
    first = VapidKeys.load_or_create(tmp_path / "vapid")
    second = VapidKeys.load_or_create(tmp_path / "vapid")
    assert first.public_key == second.public_key
    assert len(b64url_decode(first.public_key)) == 65
    assert stat.S_IMODE((tmp_path / "vapid" / "private.pem").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "vapid").iterdir()] == ["private.pem"]


def test_vapid_signed_once_per_origin_and_renewed_before_expiry(tmp_path):
    signer = VapidSigner(VapidKeys.load_or_create(tmp_path), "mailto:admin@localhost")
    now = 1_800_000_000.0
    a1 = signer.header("https://fcm.googleapis.com", now)
    assert signer.header("https://fcm.googleapis.com", now + 3600) == a1
    b1 = signer.header("https://updates.push.services.mozilla.com", now)
    assert b1 != a1
    assert signer.signatures == 2
    # 12 h tokens are re-signed once less than an hour is left.
    renewed = signer.header("https://fcm.googleapis.com", now + 11.5 * 3600)
    assert renewed != a1
    assert signer.signatures == 3
    assert a1.startswith("vapid t=") and ",k=" in a1


def test_retry_after_seconds_or_http_date():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", now) == 90.0


def test_push_service_answers_are_classified():
    assert classify_http(201, {}, b"").outcome == "sent"
    assert classify_http(410, {}, b"").outcome == "gone"
    assert classify_http(404, {}, b"").outcome == "gone"
    throttled = classify_http(429, {"retry-after": "7"}, b"")
    assert (throttled.outcome, throttled.retry_after) == ("retry", 7.0)
    assert classify_http(503, {}, b"").outcome == "retry"
    assert classify_http(413, {}, b"too big").outcome == "failed"


def _notice(**overrides):
    notice_id = uuid.uuid4()
    row = {
        "id": notice_id,
        "thread_id": notice_id,
        "version": 1,
        "priority": "normal",
        "category": "health",
        "valid_until": None,
        "texts": {
            "vi": {"title": "Tiêu đề", "body": "Nội dung", "summary": ""},
            "en": {"title": "Title", "body": "B", "summary": "S"},
        },
    }
    row.update(overrides)
    return row


def test_ttl_is_the_remaining_validity_never_zero():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ttl_for(_notice(), "published", now) == MAX_TTL
    assert ttl_for(_notice(valid_until=now + timedelta(hours=1)), "published", now) == 3600
    assert ttl_for(_notice(valid_until=now + timedelta(milliseconds=10)), "published", now) == 1
    assert ttl_for(_notice(valid_until=now + timedelta(days=90)), "published", now) == MAX_TTL
    assert ttl_for(_notice(valid_until=now), "published", now) is None
    assert ttl_for(_notice(valid_until=now - timedelta(hours=1)), "withdrawn", now) >= 1
    with pytest.raises(ValueError):
        PushOptions(ttl=0, urgency="normal", topic="x")


def test_options_and_payload():
    notice = _notice(priority="emergency")
    options = options_for(notice, 60)
    assert options.urgency == "high"
    assert options.topic == notice["thread_id"].hex and len(options.topic) == 32
    assert options_for(_notice(), 60).urgency == "normal"
    english = message_for(notice, "published", "en")
    assert (english["title"], english["summary"]) == ("Title", "S")
    assert message_for(notice, "published", "fr")["title"] == "Tiêu đề"
    huge = _notice(texts={"vi": {"title": "Đ" * 200, "body": "ệ" * 20000, "summary": ""}})
    message = message_for(huge, "published", "vi")
    import msgspec

    assert len(msgspec.json.encode(message)) <= MAX_PAYLOAD
    assert message["summary"].endswith("…")


async def test_http1_client_reuses_connections_and_reports_failures():
    connections = 0
    requests = []

    async def handle(reader, writer):
        nonlocal connections
        connections += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:  # the client closed its kept-alive connection
                writer.close()
                return
            length = int(
                next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
            )
            body = await reader.readexactly(length)
            requests.append((head.split(b"\r\n")[0], body))
            writer.write(b"HTTP/1.1 201 Created\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Http1Client(per_origin=2, timeout=5)
    try:
        answers = await asyncio.gather(
            *(
                client.post(f"http://127.0.0.1:{port}/push/{i}?x=1", [("TTL", "60")], b"body%d" % i)
                for i in range(10)
            )
        )
        assert [a.status for a in answers] == [201] * 10
        assert answers[0].headers["retry-after"] == "3"
        assert answers[0].body == b"ok"
        assert connections <= 2
        assert requests[0][0].startswith(b"POST /push/") and requests[0][0].endswith(b"?x=1 HTTP/1.1")
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    with pytest.raises(HttpError):
        await Http1Client(timeout=2).post(f"http://127.0.0.1:{port}/push", [], b"x")


async def test_post_all_refills_free_slots_in_groups():
    """After the first fill, requests are built (encrypted) only once a quarter of the slots is
    free, so their writes go out back to back instead of one after each answer."""

    async def handle(reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                writer.close()
                return
            length = int(
                next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
            )
            await reader.readexactly(length)
            await asyncio.sleep(0.001 * (len(head) % 3))  # answers come back spread out
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Http1Client(per_origin=8, timeout=5)
    events: list[tuple[str, int]] = []
    statuses: dict[int, int] = {}

    def request(i: int) -> tuple[Origin, str, bytes, bytes]:
        events.append(("built", i))
        return (*split_url(f"http://127.0.0.1:{port}/push/{'x' * i}"), b"TTL: 60\r\n", b"body")

    def answer(i: int, outcome: object) -> None:
        events.append(("answered", i))
        assert isinstance(outcome, HttpResponse)
        statuses[i] = outcome.status

    try:
        started = await client.post_all(60, request, answer, 8)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    assert started == 60 and statuses == dict.fromkeys(range(60), 201)
    groups, in_flight, built, run = [], 0, 0, 0
    for kind, _ in events:
        if kind == "built":
            if run == 0:  # a group starts: (free slots, requests left)
                groups.append((8 - in_flight, 60 - built))
            run += 1
            in_flight += 1
            built += 1
        else:
            run = 0
            in_flight -= 1
    assert groups[0] == (8, 60) and all(free >= min(2, left) for free, left in groups[1:])


async def test_http1_client_reads_answers_larger_than_its_read_buffer():
    big = bytes(range(256)) * 200  # 51,200 bytes: several reads into the 16 KiB buffer

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(1)
        writer.write(b"HTTP/1.1 410 Gone\r\nContent-Length: %d\r\n\r\n" % len(big))
        for start in range(0, len(big), 7000):
            writer.write(big[start : start + 7000])
            await writer.drain()
            await asyncio.sleep(0.001)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Http1Client(timeout=5)
    try:
        response = await client.post(f"http://127.0.0.1:{port}/push", [], b"x")
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    assert (response.status, response.body) == (410, big)
