"""Media types are judged by content (magic bytes), never by name or declared type."""

import pytest

from backend.citizen.feedback import media
from tests.citizen.feedback import helpers as h


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (h.JPEG, "image/jpeg"),
        (h.PNG, "image/png"),
        (h.WEBP, "image/webp"),
        (h.OGG_OPUS, "audio/ogg"),
        (h.MP3_ID3, "audio/mpeg"),
        (h.MP3_FRAME, "audio/mpeg"),
        (h.AAC_ADTS, "audio/aac"),
        (h.M4A, "audio/mp4"),
        (h.ANDROID_M4A, "audio/mp4"),
        (h.AMR, "audio/amr"),
        (h.WAV, "audio/wav"),
        (h.PDF, None),
        (h.MP4_VIDEO, None),
        (h.OGG_UNKNOWN, None),
        (b"GIF89a" + h.PAD, None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
def test_sniff(data, expected):
    assert media.sniff(data) == expected


def test_check_names_the_field_and_the_limit():
    with pytest.raises(media.MediaTooLarge) as too_big:
        media.check("photo", h.JPEG, max_bytes=10, field="photos[2]")
    assert too_big.value.status_code == 413
    assert too_big.value.details == {"field": "photos[2]", "size": len(h.JPEG), "max_bytes": 10}
    with pytest.raises(media.UnsupportedMedia) as wrong:
        media.check("voice", h.PNG, max_bytes=10_000, field="voice")
    assert wrong.value.status_code == 415 and wrong.value.details["detected"] == "image/png"
    ok = media.check("voice", h.AMR, max_bytes=10_000, field="voice")
    assert (ok.kind, ok.mime, ok.size) == ("voice", "audio/amr", len(h.AMR))


def test_store_is_once_per_hash(tmp_path):
    item = media.check("photo", h.PNG, max_bytes=10_000, field="photos[0]")
    first = media.store(tmp_path, item)
    second = media.store(tmp_path, item)
    assert first == second == tmp_path / "feedback" / item.sha256[:2] / item.sha256
    assert first.read_bytes() == h.PNG
    assert [p.name for p in first.parent.iterdir()] == [item.sha256]
