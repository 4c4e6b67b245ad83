"""Speech clips and programmes: cached by content, loudness at one target, MP3 that decodes to the
duration the schedule counted; bad audio input refused with a clear reason."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from backend.adapters.audio import SAMPLE_RATE, AudioRejected, decode
from backend.adapters.tts import FakeTts
from backend.broadcast.audio import media, render


def wav_bytes(seconds: float, rate: int = 44100, amplitude: int = 3000) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 330 * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


async def test_speech_is_cached_and_programmes_are_normalised_mp3_of_exact_length(rt):
    fake = FakeTts()
    rt.tts = fake
    a = await render.speech(rt, "Bản tin một hai ba bốn", "vi", 150)
    again = await render.speech(rt, "Bản tin một hai ba bốn", "vi", 150)
    assert a.pcm == again.pcm and len(fake.calls) == 1
    b = await render.speech(rt, "Bản tin năm sáu", "vi-vn-x-south", 150)
    assert len(fake.calls) == 2
    assert abs(render.loudness_of(a.pcm, SAMPLE_RATE) - render.TARGET_LUFS) < 0.5

    parts = [render.CHIME, a, b, render.CHIME]
    ref = await render.programme(rt, parts, 500)
    assert ref.mime == "audio/mpeg" and ref.duration_ms == render.assembled_ms(parts, 500)
    data = await media.read(rt, ref)
    assert data[:3] == b"ID3" or data[0] == 0xFF
    decoded = await decode(data, 120)
    assert abs(decoded.duration_ms - ref.duration_ms) < 80  # MP3 framing, at most a few frames
    assert abs(render.loudness_of(decoded.pcm, SAMPLE_RATE) - render.TARGET_LUFS) < 1.0
    # The same parts again are not rendered again.
    assert (await render.programme(rt, parts, 500)).sha256 == ref.sha256
    assert len(list(media.root(rt).rglob("*.mp3"))) == 1


async def test_decode_refuses_not_audio_corrupt_and_too_long():
    ok = await decode(wav_bytes(1.0), 10)
    assert abs(ok.duration_ms - 1000) < 5 and ok.sample_rate == SAMPLE_RATE
    with pytest.raises(AudioRejected) as info:
        await decode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, 10)
    assert info.value.reason == "not_audio"
    damaged = wav_bytes(1.0)[:44] + bytes(range(256)) * 20  # a WAV header promising more than follows
    with pytest.raises(AudioRejected) as info:
        await decode(damaged, 10)
    assert info.value.reason == "corrupt"
    with pytest.raises(AudioRejected) as info:
        await decode(wav_bytes(3.0), 2)
    assert info.value.reason == "too_long"
    with pytest.raises(AudioRejected) as info:
        await decode(b"", 2)
    assert info.value.reason == "not_audio"


async def test_real_speech_reaches_the_loudness_target_with_peaks_held():
    import numpy as np

    from backend.adapters.tts import EspeakTts

    spoken = await EspeakTts().synthesize(
        "Thông báo khẩn cấp: nước lũ dâng nhanh, đề nghị bà con di chuyển lên vùng cao ngay.", "vi", 150
    )
    pcm = render.normalise(spoken.pcm, spoken.sample_rate)
    assert abs(render.loudness_of(pcm, spoken.sample_rate) - render.TARGET_LUFS) < 0.5
    peak = np.max(np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.float64))) / 32768.0
    assert 20 * np.log10(peak) <= render.PEAK_DBFS + 0.01
