"""The process's shared parts, built once in the app's lifespan and handed to services."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend.adapters.clock import Clock
from backend.adapters.mqtt import MessageBus
from backend.adapters.tts import TextToSpeech, default_tts
from backend.lib.crypto import KeyRing
from backend.lib.db import Database
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.core.outbox.services import ChannelHandler
    from backend.sync.registry import Registry


def _sync_tables() -> Registry:
    from backend.synced import build_sync_registry

    return build_sync_registry()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    bus: MessageBus
    jwt_keys: KeyRing
    # The province's signing key: manifests for devices and reports sent upstream. Separate from
    # the token keys so rotating one never invalidates the other.
    province_keys: KeyRing
    channel_handlers: dict[str, ChannelHandler] = field(default_factory=dict)
    # Speech for loudspeaker programmes; eSpeak NG unless a test or deployment swaps it.
    tts: TextToSpeech = field(default_factory=default_tts)
    # The tables officials' phones sync (backend/synced.py lists them).
    sync_tables: Registry = field(default_factory=_sync_tables)
    # Called with a device id when its credentials were revoked or rotated, or it was moved: the
    # embedded broker registers here to drop sessions that no longer fit.
    credential_listeners: list[Callable[[uuid.UUID], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        settings: Settings,
        db: Database,
        clock: Clock,
        bus: MessageBus,
        channel_handlers: dict[str, ChannelHandler] | None = None,
        tts: TextToSpeech | None = None,
    ) -> Runtime:
        """A runtime with its key rings loaded (created on first start) from the keys folder."""
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            bus=bus,
            jwt_keys=KeyRing(settings.effective_keys_dir / "jwt").load_or_create(),
            province_keys=KeyRing(settings.effective_keys_dir / "province").load_or_create(),
            channel_handlers=channel_handlers or {},
            tts=tts or default_tts(),
        )
