"""Officials' recordings by sha256, wherever they were uploaded.

A recording accepted through the broadcast upload endpoint is decoded and normalised on arrival and
kept as a clip. A recording that arrived through the sync stream's blob store (an official's phone
syncing offline) is found with ``backend.sync.get_blob(rt, sha256)`` when that export exists, decoded
here in the worker, checked like an upload, and kept as a clip the same way."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

from backend.adapters.audio import AudioRejected, decode
from backend.broadcast.audio import render
from backend.broadcast.audio.render import Clip
from backend.runtime import Runtime

MAX_SECONDS = 20 * 60


def _sync_get_blob() -> Any:
    try:
        module = importlib.import_module("backend.sync")
    except ImportError:
        return None
    return getattr(module, "get_blob", None)


async def recording_clip(rt: Runtime, sha256: str) -> Clip | None:
    clip = await render.recording(rt, sha256)
    if clip is not None:
        return clip
    get_blob = _sync_get_blob()
    if get_blob is None:
        return None
    info = await get_blob(rt, sha256)
    if info is None or not getattr(info, "complete", False):
        return None
    data = await asyncio.to_thread(Path(info.path).read_bytes)
    try:
        decoded = await decode(data, MAX_SECONDS)
    except AudioRejected:
        return None
    return await render.store_recording(rt, sha256, decoded.pcm)
