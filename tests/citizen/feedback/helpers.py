"""Builders shared by the feedback tests: citizens, report bodies and small files of each type."""

from __future__ import annotations

import uuid
from typing import Any

from backend.citizen.feedback.tables import Feedback, FeedbackEvent, FeedbackMedia

PAD = bytes(range(256)) * 4

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + PAD
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + PAD
WEBP = b"RIFF\x24\x04\x00\x00WEBPVP8 " + PAD
OGG_OPUS = b"OggS\x00\x02" + bytes(22) + b"OpusHead\x01\x01" + PAD
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + PAD
MP3_FRAME = b"\xff\xfb\x90\x64" + PAD
AAC_ADTS = b"\xff\xf1\x50\x80\x02\x1f\xfc" + PAD
M4A = (
    b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00"
    + PAD
    + b"\x00\x00\x00\x21hdlr\x00\x00\x00\x00\x00\x00\x00\x00soun"
)
ANDROID_M4A = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00" + PAD + b"hdlr\x00\x00\x00\x00\x00\x00\x00\x00soun"
MP4_VIDEO = (
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"
    + PAD
    + b"hdlr\x00\x00\x00\x00\x00\x00\x00\x00vide"
    + b"hdlr\x00\x00\x00\x00\x00\x00\x00\x00soun"
)
AMR = b"#!AMR\n" + PAD
WAV = b"RIFF\x24\x04\x00\x00WAVEfmt " + PAD
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + PAD
OGG_UNKNOWN = b"OggS\x00\x02" + bytes(22) + b"\x80theora" + PAD


async def citizen(client: Any, device: str | None = None) -> tuple[dict[str, str], str]:
    """Register a phone; returns (headers, account id)."""
    device = device or f"phone-{uuid.uuid4().hex[:12]}"
    response = await client.post("/api/v1/citizens/register", json={"device_id": device})
    assert response.status_code in {200, 201}, response.text
    pair = response.json()
    return {"Authorization": f"Bearer {pair['access_token']}"}, pair["account_id"]


def report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": f"c-{uuid.uuid4().hex}",
        "category": "environment",
        "text": "Bãi rác tự phát cạnh trường tiểu học, bốc mùi nhiều ngày.",
        "area_code": "38001-01",
        "anonymous": True,
    }
    body.update(overrides)
    return body


async def counts() -> tuple[int, int, int]:
    """(reports, media rows, history entries) — to show that a refused request changed nothing."""
    return await Feedback.count(), await FeedbackMedia.count(), await FeedbackEvent.count()
