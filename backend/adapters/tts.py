"""Text-to-speech behind a small interface: eSpeak NG (from the ``espeakng-loader`` wheel, which
ships the library and its Vietnamese voices) and a fake for tests that only need durations.

The engine returns mono 16-bit PCM; assembling, loudness and encoding are the audio module's job,
so a better engine can replace eSpeak NG by implementing ``synthesize``."""

from __future__ import annotations

import asyncio
import ctypes
import math
import struct
import threading
from dataclasses import dataclass
from typing import Protocol

VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")


class TtsError(Exception):
    """The engine could not speak this text with this voice."""


@dataclass(frozen=True)
class Speech:
    pcm: bytes  # mono, signed 16-bit little-endian
    sample_rate: int

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


class TextToSpeech(Protocol):
    name: str

    async def synthesize(self, text: str, voice: str, speed: int) -> Speech: ...


_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1
_ESPEAK_CHARS_UTF8 = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """The one eSpeak NG library of the process. It keeps global state (voice, rate, callback), so
    it is initialised once and used by one synthesis at a time, whichever runtime asks."""

    lock = threading.Lock()
    lib: ctypes.CDLL | None = None
    rate = 0
    chunks: list[bytes] = []

    @staticmethod
    def _collect(wav: ctypes.Array[ctypes.c_short], count: int, _events: int) -> int:
        if count > 0:
            _Espeak.chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    callback = _CALLBACK(_collect)

    @classmethod
    def load(cls) -> ctypes.CDLL:
        if cls.lib is None:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            rate = lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0
            )
            if rate <= 0:
                raise TtsError("eSpeak NG failed to initialise")
            lib.espeak_SetSynthCallback(cls.callback)
            cls.lib, cls.rate = lib, rate
        return cls.lib

    @classmethod
    def speak(cls, text: str, voice: str, speed: int) -> Speech:
        with cls.lock:
            lib = cls.load()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise TtsError(f"eSpeak NG has no voice {voice}")
            lib.espeak_SetParameter(_ESPEAK_RATE, int(speed), 0)
            data = text.encode("utf-8")
            buffer = ctypes.create_string_buffer(data)
            cls.chunks = []
            status = lib.espeak_Synth(buffer, len(data) + 1, 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            pcm = b"".join(cls.chunks)
            cls.chunks = []
            rate = cls.rate
        if status != 0:
            raise TtsError(f"eSpeak NG synthesis failed ({status})")
        return Speech(pcm=pcm, sample_rate=rate)


class EspeakTts:
    """eSpeak NG through its C API, in a worker thread (never on the event loop)."""

    name = "espeak-ng"

    async def synthesize(self, text: str, voice: str, speed: int) -> Speech:
        if voice not in VOICES:
            raise TtsError(f"unknown voice {voice}")
        return await asyncio.to_thread(_Espeak.speak, text, voice, speed)


class FakeTts:
    """A tone whose length follows the text (about ``speed`` words a minute), for tests that need
    real audio of a predictable duration without a speech engine."""

    name = "fake"

    def __init__(self, sample_rate: int = 22050) -> None:
        self.sample_rate = sample_rate
        self.calls: list[tuple[str, str, int]] = []

    async def synthesize(self, text: str, voice: str, speed: int) -> Speech:
        if voice not in VOICES:
            raise TtsError(f"unknown voice {voice}")
        self.calls.append((text, voice, speed))
        words = max(1, len(text.split()))
        samples = int(self.sample_rate * words * 60 / speed)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * i / self.sample_rate)) for i in range(samples))
        return Speech(pcm=struct.pack(f"<{samples}h", *frames), sample_rate=self.sample_rate)


def default_tts() -> TextToSpeech:
    return EspeakTts()
