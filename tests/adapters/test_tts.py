"""The TTS adapter: eSpeak NG from the wheel speaks Vietnamese in its three voices; the fake's
length follows the text."""

from __future__ import annotations

import pytest

from backend.adapters.tts import VOICES, EspeakTts, FakeTts, TtsError

TEXT = "Thông báo: Tiêm chủng cho trẻ em sáng thứ Bảy tại trạm y tế xã Hoằng Hóa."


async def test_espeak_speaks_vietnamese_in_every_voice_and_speed_changes_length():
    tts = EspeakTts()
    lengths = {}
    for voice in VOICES:
        speech = await tts.synthesize(TEXT, voice, 150)
        assert speech.sample_rate == 22050
        assert 2_000 < speech.duration_ms < 20_000, voice
        assert any(speech.pcm[i] for i in range(0, len(speech.pcm), 97)), "silence"
        lengths[voice] = speech.pcm
    assert lengths["vi"] != lengths["vi-vn-x-south"]
    slow = await tts.synthesize(TEXT, "vi", 100)
    fast = await tts.synthesize(TEXT, "vi", 250)
    assert slow.duration_ms > fast.duration_ms * 1.5
    with pytest.raises(TtsError):
        await tts.synthesize(TEXT, "en", 150)


async def test_fake_tts_length_follows_words_and_speed():
    tts = FakeTts()
    speech = await tts.synthesize("một hai ba bốn năm", "vi", 150)
    assert speech.duration_ms == 2000
    assert tts.calls == [("một hai ba bốn năm", "vi", 150)]
