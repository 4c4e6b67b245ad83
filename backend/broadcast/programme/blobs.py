"""Officials' recordings by sha256, wherever they were uploaded.

A recording accepted through the broadcast upload endpoint is decoded and normalised on arrival and
kept as a clip. A recording that arrived through the sync blob store (an official's phone syncing
offline) is found with ``backend.sync.get_blob``, used only once verified (``complete``), decoded
here in the worker, checked like an upload, and kept as a clip the same way."""

from __future__ import annotations

import asyncio

from backend.adapters.audio import AudioRejected, decode
from backend.broadcast.audio import render
from backend.broadcast.audio.render import Clip
from backend.runtime import Runtime
from backend.sync import get_blob

MAX_SECONDS = 20 * 60


async def recording_clip(rt: Runtime, sha256: str) -> Clip | None:
    clip = await render.recording(rt, sha256)
    if clip is not None:
        return clip
    info = await get_blob(rt, sha256)
    if info is None or not info.complete:
        return None
    data = await asyncio.to_thread(info.path.read_bytes)
    try:
        decoded = await decode(data, MAX_SECONDS)
    except AudioRejected:
        return None
    return await render.store_recording(rt, sha256, decoded.pcm)
