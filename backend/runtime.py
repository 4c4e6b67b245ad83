"""The process's shared parts, built once in the app's lifespan and handed to services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend.adapters.clock import Clock
from backend.adapters.mqtt import MessageBus
from backend.lib.crypto import KeyRing
from backend.lib.db import Database
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.core.outbox.services import ChannelHandler


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    bus: MessageBus
    jwt_keys: KeyRing
    channel_handlers: dict[str, ChannelHandler] = field(default_factory=dict)
