"""Speech clips, programme assembly, loudness and MP3 — always in a worker, never in a request.

Every render is keyed by a hash of what it is made of (engine, voice, speed and text for speech;
the parts and pauses for a programme), so the same clip or programme is made once however many
sessions, groups or retries ask for it. Clips are kept as PCM (the assembler's input); programmes
are MP3 files devices download. Loudness is normalised to one target (EBU R128 integrated loudness
measured per ITU-R BS.1770 with ``pyloudnorm``), with the peak held below -1 dBFS; durations are
exact (samples / rate), which is what the schedule adds up."""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import pyloudnorm

from backend.adapters.audio import SAMPLE_RATE, encode_mp3, ffmpeg_exe

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH when imported; it gets the wheel's ffmpeg just below.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine

from backend.broadcast.audio import media
from backend.broadcast.audio.media import MediaRef
from backend.runtime import Runtime

AudioSegment.converter = ffmpeg_exe()

TARGET_LUFS = -16.0
PEAK_DBFS = -1.0
CHIME = "chime"


@dataclass(frozen=True)
class Clip:
    key: str
    pcm: bytes
    sample_rate: int

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


def render_key(*parts: object) -> str:
    return hashlib.sha256(msgspec.json.encode(list(parts))).hexdigest()


def _limit(samples: np.ndarray, ceiling: float, knee: float) -> np.ndarray:
    """Soft peak limiting: untouched below ``knee``, bent smoothly towards ``ceiling`` above it."""
    out = samples.copy()
    loud = np.abs(samples) > knee
    span = ceiling - knee
    over = np.abs(samples[loud]) - knee
    out[loud] = np.sign(samples[loud]) * (knee + span * np.tanh(over / span))
    return out


def normalise(pcm: bytes, sample_rate: int, target: float = TARGET_LUFS) -> bytes:
    """Gain to the target integrated loudness with peaks held under ``PEAK_DBFS`` by a soft limiter
    (speech has a high crest factor: lowering the gain instead would miss the target by several LU).
    A second pass corrects the little loudness the limiter takes away."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    if samples.size < int(0.4 * sample_rate) or not np.any(samples):
        return pcm  # too short for a gated loudness measurement (or silence): leave as is
    meter = pyloudnorm.Meter(sample_rate)
    ceiling = 10 ** (PEAK_DBFS / 20)
    for _ in range(2):
        loudness = meter.integrated_loudness(samples)
        if not np.isfinite(loudness):
            return pcm
        samples = _limit(samples * 10 ** ((target - loudness) / 20), ceiling, ceiling * 0.7)
    out = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    return out.tobytes()


def loudness_of(pcm: bytes, sample_rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(samples))


def _resample(pcm: bytes, rate: int) -> bytes:
    if rate == SAMPLE_RATE:
        return pcm
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
    return segment.set_frame_rate(SAMPLE_RATE).raw_data


async def _cached_clip(rt: Runtime, key: str) -> Clip | None:
    ref = await media.by_render_key(rt, key)
    if ref is None:
        return None
    return Clip(key=key, pcm=await media.read(rt, ref), sample_rate=SAMPLE_RATE)


async def _store_clip(rt: Runtime, key: str, pcm: bytes) -> Clip:
    duration = round(len(pcm) / 2 * 1000 / SAMPLE_RATE)
    await media.put(rt, pcm, kind="clip", mime="audio/L16", ext="pcm", duration_ms=duration, render_key=key)
    return Clip(key=key, pcm=pcm, sample_rate=SAMPLE_RATE)


async def speech(rt: Runtime, text: str, voice: str, speed: int) -> Clip:
    key = render_key("speech", rt.tts.name, voice, speed, TARGET_LUFS, text)
    cached = await _cached_clip(rt, key)
    if cached is not None:
        return cached
    spoken = await rt.tts.synthesize(text, voice, speed)
    pcm = await asyncio.to_thread(lambda: normalise(_resample(spoken.pcm, spoken.sample_rate), SAMPLE_RATE))
    return await _store_clip(rt, key, pcm)


def recording_key(sha256: str) -> str:
    return render_key("recording", sha256, TARGET_LUFS)


async def recording(rt: Runtime, sha256: str) -> Clip | None:
    """An official's recording, decoded and normalised when it was accepted."""
    return await _cached_clip(rt, recording_key(sha256))


async def store_recording(rt: Runtime, sha256: str, pcm: bytes) -> Clip:
    key = recording_key(sha256)
    normalised = await asyncio.to_thread(normalise, pcm, SAMPLE_RATE)
    return await _store_clip(rt, key, normalised)


def _chime() -> AudioSegment:
    """A two-note "ding-dong" that opens and closes a programme (generated, so no asset file)."""
    high = Sine(659.25, sample_rate=SAMPLE_RATE).to_audio_segment(duration=350, volume=-9).fade_out(120)
    low = Sine(523.25, sample_rate=SAMPLE_RATE).to_audio_segment(duration=600, volume=-9).fade_out(300)
    return (high + low).set_channels(1).set_sample_width(2)


def chime_ms() -> int:
    return len(_chime())


def _assemble(parts: Sequence[Clip | str], pause_ms: int) -> bytes:
    silence = AudioSegment.silent(duration=pause_ms, frame_rate=SAMPLE_RATE).set_sample_width(2)
    out = AudioSegment.empty().set_frame_rate(SAMPLE_RATE).set_channels(1).set_sample_width(2)
    for i, part in enumerate(parts):
        if i and pause_ms:
            out += silence
        if isinstance(part, str):
            out += _chime()
        else:
            out += AudioSegment(data=part.pcm, sample_width=2, frame_rate=part.sample_rate, channels=1)
    return normalise(out.raw_data, SAMPLE_RATE)


async def programme(rt: Runtime, parts: Sequence[Clip | str], pause_ms: int) -> MediaRef:
    """One MP3 of the parts in order with pauses between (``"chime"`` for the jingle)."""
    key = render_key("programme", [p if isinstance(p, str) else p.key for p in parts], pause_ms, TARGET_LUFS)
    cached = await media.by_render_key(rt, key)
    if cached is not None:
        return cached
    pcm = await asyncio.to_thread(_assemble, parts, pause_ms)
    mp3 = await encode_mp3(pcm, SAMPLE_RATE)
    duration = round(len(pcm) / 2 * 1000 / SAMPLE_RATE)
    return await media.put(
        rt, mp3, kind="programme", mime="audio/mpeg", ext="mp3", duration_ms=duration, render_key=key
    )


def assembled_ms(parts: Sequence[Clip | str], pause_ms: int) -> int:
    """The exact length ``programme`` will have, without rendering it."""
    total = sum(chime_ms() if isinstance(p, str) else p.duration_ms for p in parts)
    return total + pause_ms * max(0, len(parts) - 1)
