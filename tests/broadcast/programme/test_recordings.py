"""Officials' recordings: accepted by decoding (not by name), refused clearly when not audio,
damaged or too long, then placed in the programme like any item."""

from __future__ import annotations

import pytest

from backend import broadcast
from backend.adapters.clock import FakeClock
from backend.broadcast.programme import services as programme
from tests.broadcast.audio.test_render import wav_bytes
from tests.broadcast.support import BASE, drain, station, verifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_recordings_are_checked_and_played(client, factory, app_rt, clock, monkeypatch):
    await factory.tree()
    leader, st = await station(client, factory)
    url = f"{BASE}/stations/{st['id']}/recordings"
    headers = {**leader.headers, "content-type": "application/octet-stream", "Accept-Language": "en"}

    r = await client.post(url, content=b"%PDF-1.4 not a sound at all" * 40, headers=headers)
    assert r.status_code == 422
    error = r.json()["error"]
    assert (error["code"], error["message"]) == ("not_audio", "The uploaded file is not audio.")
    r = await client.post(url, content=wav_bytes(1.0)[:44] + bytes(range(256)) * 20, headers=leader.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "corrupt"
    assert r.json()["error"]["message"] == "Tệp âm thanh bị hỏng, không giải mã được."
    monkeypatch.setattr(programme, "MAX_RECORDING_SECONDS", 2)
    r = await client.post(url, content=wav_bytes(3.0), headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_long"

    r = await client.post(url, content=wav_bytes(1.5), headers=headers)
    assert r.status_code == 201, r.text
    recording = r.json()
    assert abs(recording["duration_ms"] - 1500) < 5
    r = await client.post(
        f"{BASE}/stations/{st['id']}/programme",
        json={"kind": "recording", "media_sha256": recording["sha256"]},
        headers=headers,
    )
    assert r.status_code == 422  # a recording needs a title
    r = await client.post(
        f"{BASE}/stations/{st['id']}/programme",
        json={"kind": "recording", "media_sha256": recording["sha256"], "title": "Lời chủ tịch xã"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    await drain(client)
    v = await verifier(client)
    audio = v.verify((await broadcast.current_manifests(app_rt, st["default_group_id"]))[0], clock.now())
    items = audio.entries[0]["items"]
    assert [i["kind"] for i in items] == ["intro", "recording", "outro"]
    assert items[1]["title"] == "Lời chủ tịch xã" and abs(items[1]["duration_ms"] - 1500) < 5


async def test_a_recording_synced_from_a_phone_is_used_once_verified(rt):
    import hashlib

    from backend.broadcast.programme import blobs
    from backend.sync.blobs import final_path
    from backend.sync.tables import SyncBlob

    data = wav_bytes(1.0)
    sha = hashlib.sha256(data).hexdigest()
    await SyncBlob.insert(
        SyncBlob(sha256=sha, size=len(data), mime="audio/wav", received=len(data), complete=False)
    )
    assert await blobs.recording_clip(rt, sha) is None  # still uploading: not used
    path = final_path(rt, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    await SyncBlob.update({SyncBlob.complete: True}).where(SyncBlob.sha256 == sha)
    clip = await blobs.recording_clip(rt, sha)
    assert clip is not None and abs(clip.duration_ms - 1000) < 5
    # Kept as a clip: found again without the blob store.
    assert (await blobs.recording_clip(rt, sha)).pcm == clip.pcm
