"""Audio decoding and MP3 encoding with ffmpeg from the ``imageio-ffmpeg`` wheel (no OS package).

Decoding always produces mono 16-bit PCM at one rate, so everything a programme is assembled from
(speech, officials' recordings, jingles) mixes without further conversion. ffmpeg runs as a child
process fed through pipes; nothing is written to a temporary file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

SAMPLE_RATE = 22050
MP3_BITRATE = "64k"


class AudioRejected(Exception):
    """Input that is not usable audio. ``reason`` is ``not_audio``, ``corrupt`` or ``too_long``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Decoded:
    pcm: bytes
    sample_rate: int

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


async def _run(args: list[str], data: bytes) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(data)
    return process.returncode or 0, out, err


async def decode(data: bytes, max_seconds: float) -> Decoded:
    """Decode any audio ffmpeg reads; refuse what is not audio, is damaged, or runs too long."""
    if not data:
        raise AudioRejected("not_audio", "empty file")
    # Decode at most a little past the limit: a three-hour file is refused without decoding it all.
    args = ["-v", "error", "-xerror", "-i", "pipe:0", "-map", "0:a:0", "-t", f"{max_seconds + 1:.3f}"]
    args += ["-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"]
    code, out, err = await _run(args, data)
    text = " ".join(err.decode("utf-8", "replace").split())
    if code != 0:
        # Nothing ffmpeg could open as audio is "not audio"; audio it opened but could not decode
        # to the end is "corrupt".
        if any(
            m in text for m in ("Error opening input", "matches no streams", "does not contain any stream")
        ):
            raise AudioRejected("not_audio", text[:300])
        raise AudioRejected("corrupt", text[:300])
    if not out:
        raise AudioRejected("not_audio", "no audio samples")
    decoded = Decoded(pcm=out, sample_rate=SAMPLE_RATE)
    if decoded.duration_ms > max_seconds * 1000:
        raise AudioRejected("too_long", f"longer than {int(max_seconds)} s")
    return decoded


async def encode_mp3(pcm: bytes, sample_rate: int) -> bytes:
    args = ["-v", "error", "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0"]
    args += ["-codec:a", "libmp3lame", "-b:a", MP3_BITRATE, "-f", "mp3", "pipe:1"]
    code, out, err = await _run(args, pcm)
    if code != 0 or not out:
        raise RuntimeError(f"ffmpeg could not encode MP3: {err.decode('utf-8', 'replace')[:300]}")
    return out
