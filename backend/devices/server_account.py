"""Kẻng's own MQTT account: one username (``KENG_MQTT_SERVER_USERNAME``) and a random password kept
in the keys folder, made on first start. Devices never share it; it may read and write every topic
under the instance's root."""

from __future__ import annotations

import os
import secrets

from backend.settings import Settings

SECRET_FILE = "mqtt-server.secret"


def server_credentials(settings: Settings) -> tuple[str, str]:
    path = settings.effective_keys_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
    return settings.mqtt_server_username, path.read_text().strip()
