"""Runtime configuration.

This is the only module that reads the environment. Everything else receives a :class:`Settings`
instance, so tests can build one per database/broker without touching ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("keng-data")


@dataclass(frozen=True)
class Setting:
    """Documentation of one ``KENG_*`` variable, used by ``keng serve --help`` and the README."""

    env: str
    help: str


def _meta(env: str, help_text: str) -> dict[str, Setting]:
    return {"setting": Setting(env=env, help=help_text)}


@dataclass(frozen=True)
class Settings:
    """Every knob of a Kẻng process. Defaults give the embedded, nothing-to-install setup."""

    data_dir: Path = field(
        default=DEFAULT_DATA_DIR,
        metadata=_meta("KENG_DATA_DIR", "Folder for the SQLite file, keys and media (default ./keng-data)."),
    )
    database_url: str = field(
        default="",
        metadata=_meta(
            "KENG_DATABASE_URL",
            "sqlite:///path/to/file.db (default: <data dir>/keng.db) or postgres://user@host:5432/db.",
        ),
    )
    mqtt_url: str = field(
        default="embedded",
        metadata=_meta(
            "KENG_MQTT_URL",
            "'embedded' (default: a broker inside this process) or mqtt://[user:pass@]host:port.",
        ),
    )
    mqtt_host: str = field(
        default="127.0.0.1",
        metadata=_meta("KENG_MQTT_HOST", "Address the embedded broker listens on (default 127.0.0.1)."),
    )
    mqtt_port: int = field(
        default=1883,
        metadata=_meta("KENG_MQTT_PORT", "Port of the embedded broker (default 1883; 0 picks a free port)."),
    )
    mqtt_namespace: str = field(
        default="",
        metadata=_meta(
            "KENG_MQTT_NAMESPACE",
            "Topic prefix before keng/v1/ when several instances share one broker (e.g. 'tinh38'); "
            "default none.",
        ),
    )
    host: str = field(default="127.0.0.1", metadata=_meta("KENG_HOST", "HTTP listen address."))
    port: int = field(default=8000, metadata=_meta("KENG_PORT", "HTTP listen port."))
    keys_dir: Path | None = field(
        default=None,
        metadata=_meta(
            "KENG_KEYS_DIR", "Folder for signing keys (default <data dir>/keys); never commit it."
        ),
    )
    province_code: str = field(
        default="38",
        metadata=_meta(
            "KENG_PROVINCE_CODE", "Official code of the province this instance serves (38 = Thanh Hóa)."
        ),
    )
    access_token_minutes: int = field(
        default=15, metadata=_meta("KENG_ACCESS_TOKEN_MINUTES", "Lifetime of an access token.")
    )
    refresh_token_days: int = field(
        default=30, metadata=_meta("KENG_REFRESH_TOKEN_DAYS", "Lifetime of a refresh token.")
    )
    run_workers: bool = field(
        default=True,
        metadata=_meta("KENG_RUN_WORKERS", "Run the outbox worker inside the server process (1/0)."),
    )
    worker_poll_seconds: float = field(
        default=1.0,
        metadata=_meta("KENG_WORKER_POLL_SECONDS", "How often an idle outbox worker looks for work."),
    )
    login_rate_per_minute: int = field(
        default=20,
        metadata=_meta("KENG_LOGIN_RATE_PER_MINUTE", "Login attempts allowed per client address per minute."),
    )
    log_level: str = field(default="INFO", metadata=_meta("KENG_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR."))
    vapid_subject: str = field(
        default="mailto:admin@localhost",
        metadata=_meta(
            "KENG_VAPID_SUBJECT",
            "Contact put in Web Push VAPID tokens (mailto: or https: URL of the operator).",
        ),
    )
    webpush_hosts: str = field(
        default=(
            "fcm.googleapis.com,android.googleapis.com,push.services.mozilla.com,"
            "notify.windows.com,push.apple.com"
        ),
        metadata=_meta(
            "KENG_WEBPUSH_HOSTS",
            "Comma-separated push-service host suffixes a Web Push endpoint may point at ('*' = any "
            "https host); loopback hosts listed here may use http.",
        ),
    )
    push_concurrency: int = field(
        default=64,
        metadata=_meta("KENG_PUSH_CONCURRENCY", "Push requests in flight at once during a fan-out."),
    )
    mosquitto_auth_dir: Path | None = field(
        default=None,
        metadata=_meta(
            "KENG_MOSQUITTO_AUTH_DIR",
            "With an external Mosquitto: the folder of its password and ACL files, rewritten at start "
            "and whenever a device's credentials or place change (unset: run "
            "`keng devices export-mosquitto-auth` yourself).",
        ),
    )
    mosquitto_pid_file: Path | None = field(
        default=None,
        metadata=_meta(
            "KENG_MOSQUITTO_PID_FILE",
            "Mosquitto's pid file: after each rewrite Mosquitto is sent SIGHUP, so a revoked device is "
            "dropped at once.",
        ),
    )
    fcm_credentials: Path | None = field(
        default=None,
        metadata=_meta(
            "KENG_FCM_CREDENTIALS",
            "Path to a Firebase service-account JSON; unset disables FCM (Web Push still works).",
        ),
    )
    fcm_endpoint: str = field(
        default="",
        metadata=_meta(
            "KENG_FCM_ENDPOINT",
            "Base URL of an FCM-compatible HTTP v1 service instead of https://fcm.googleapis.com (tests).",
        ),
    )
    feedback_reopen_days: int = field(
        default=7,
        metadata=_meta(
            "KENG_FEEDBACK_REOPEN_DAYS", "Days after an answer during which a citizen may say 'not resolved'."
        ),
    )
    feedback_max_media_bytes: int = field(
        default=5 * 1024 * 1024,
        metadata=_meta("KENG_FEEDBACK_MAX_MEDIA_BYTES", "Largest photo or voice note attached to feedback."),
    )
    feedback_device_rate_per_hour: int = field(
        default=30,
        metadata=_meta(
            "KENG_FEEDBACK_DEVICE_RATE_PER_HOUR", "New feedback reports allowed per device per hour."
        ),
    )
    feedback_ip_rate_per_minute: int = field(
        default=120,
        metadata=_meta(
            "KENG_FEEDBACK_IP_RATE_PER_MINUTE",
            "New feedback reports allowed per client address per minute (mobile carriers share addresses).",
        ),
    )
    cap_sender: str = field(
        default="",
        metadata=_meta(
            "KENG_CAP_SENDER",
            "CAP <sender> of published alerts, no spaces or commas (default keng@tinh<province code>.local).",
        ),
    )
    cap_sender_name: str = field(
        default="",
        metadata=_meta(
            "KENG_CAP_SENDER_NAME",
            "CAP <senderName> (default 'Hệ thống thông tin nguồn tỉnh <province name>').",
        ),
    )
    cap_default_expires_hours: int = field(
        default=72,
        metadata=_meta(
            "KENG_CAP_DEFAULT_EXPIRES_HOURS",
            "CAP <expires> for notices without an end of validity: hours after sending (default 72).",
        ),
    )
    emergency_repeat: int = field(
        default=3,
        metadata=_meta("KENG_EMERGENCY_REPEAT", "How many times loudspeakers play an emergency notice."),
    )
    emergency_interval_seconds: int = field(
        default=300,
        metadata=_meta(
            "KENG_EMERGENCY_INTERVAL_SECONDS", "Seconds from the start of one emergency play to the next."
        ),
    )
    report_window_start: str = field(
        default="12-15",
        metadata=_meta(
            "KENG_REPORT_WINDOW_START",
            "MM-DD (Vietnam time) where the yearly report's data window starts in the previous year; it "
            "ends the day before in the report year (default 12-15: 15/12 to 14/12).",
        ),
    )

    console_session_hours: int = field(
        default=10,
        metadata=_meta(
            "KENG_CONSOLE_SESSION_HOURS",
            "Hours a staff web-console login lasts at most, however active (default 10: one working day).",
        ),
    )
    console_idle_minutes: int = field(
        default=30,
        metadata=_meta(
            "KENG_CONSOLE_IDLE_MINUTES",
            "Minutes without a request after which a web-console login ends (default 30).",
        ),
    )
    sync_tombstone_days: int = field(
        default=180,
        metadata=_meta(
            "KENG_SYNC_TOMBSTONE_DAYS",
            "Days deletions are kept for offline phones; a phone away longer is told to reset (keeping "
            "its unsent changes).",
        ),
    )
    sync_max_concurrent: int = field(
        default=16,
        metadata=_meta(
            "KENG_SYNC_MAX_CONCURRENT",
            "Sync requests processed at once per process; more are answered 429 with Retry-After.",
        ),
    )
    sync_max_page_bytes: int = field(
        default=1024 * 1024,
        metadata=_meta(
            "KENG_SYNC_MAX_PAGE_BYTES", "Largest page of changes (uncompressed bytes) a phone may ask for."
        ),
    )
    sync_snapshot_reuse_s: int = field(
        default=600,
        metadata=_meta(
            "KENG_SYNC_SNAPSHOT_REUSE_S",
            "Seconds a first-login snapshot of a scope is reused for the next phones of that scope "
            "(they then pull what changed since it); 0: every snapshot starts at the newest change.",
        ),
    )
    sync_blob_max_bytes: int = field(
        default=500 * 1024 * 1024,
        metadata=_meta(
            "KENG_SYNC_BLOB_MAX_BYTES",
            "Largest file (photo, recorded programme, signature) a phone may upload.",
        ),
    )
    training_max_bytes: int = field(
        default=300 * 1024 * 1024,
        metadata=_meta(
            "KENG_TRAINING_MAX_BYTES",
            "Largest file of a training material (document, slides, audio, video) officials download.",
        ),
    )
    sms_gateway_url: str = field(
        default="",
        metadata=_meta(
            "KENG_SMS_GATEWAY_URL",
            "URL the SMS channel POSTs each message to; unset leaves SMS outbox rows waiting.",
        ),
    )
    sms_gateway_template: str = field(
        default="",
        metadata=_meta(
            "KENG_SMS_GATEWAY_TEMPLATE",
            "Request body with {to} {text} {encoding} {sender} {reference} {segments} placeholders "
            "(default a JSON object with those keys).",
        ),
    )
    sms_gateway_content_type: str = field(
        default="application/json",
        metadata=_meta(
            "KENG_SMS_GATEWAY_CONTENT_TYPE",
            "Content type of the gateway request: application/json or application/x-www-form-urlencoded.",
        ),
    )
    sms_gateway_auth: str = field(
        default="",
        metadata=_meta(
            "KENG_SMS_GATEWAY_AUTH", "Authorization header sent to the SMS gateway (e.g. 'Bearer …'); secret."
        ),
    )
    sms_sender: str = field(
        default="KENG",
        metadata=_meta("KENG_SMS_SENDER", "Sender name (brandname) given to the gateway as {sender}."),
    )
    sms_encoding: str = field(
        default="ucs2",
        metadata=_meta(
            "KENG_SMS_ENCODING",
            "Default SMS encoding: ucs2 (Vietnamese with diacritics, 70/67 per segment) or gsm7 "
            "(without diacritics, 160/153); a citizen may choose otherwise.",
        ),
    )
    sms_max_segments: int = field(
        default=3,
        metadata=_meta("KENG_SMS_MAX_SEGMENTS", "Longest SMS in segments; longer texts are cut at a word."),
    )
    sms_price_per_segment: int = field(
        default=800,
        metadata=_meta("KENG_SMS_PRICE_PER_SEGMENT", "Price of one SMS segment in đồng, for cost figures."),
    )
    sms_concurrency: int = field(
        default=4,
        metadata=_meta("KENG_SMS_CONCURRENCY", "SMS gateway requests in flight at once."),
    )
    sms_receipt_token: str = field(
        default="",
        metadata=_meta(
            "KENG_SMS_RECEIPT_TOKEN",
            "Shared secret the gateway sends (X-Keng-Sms-Token) with delivery receipts; unset refuses them.",
        ),
    )

    public_url: str = field(
        default="",
        metadata=_meta(
            "KENG_PUBLIC_URL",
            "Public base URL (e.g. https://thongtin.thanhhoa.gov.vn) for links in website feeds and the "
            "widget (default the URL each request came in on) and for media links in devices' signed "
            "manifests (default http://<KENG_HOST>:<KENG_PORT>).",
        ),
    )

    upstream_url: str = field(
        default="",
        metadata=_meta(
            "KENG_UPSTREAM_URL",
            "Base URL of the upstream source system to follow (the central one, or another Kẻng); unset: none.",
        ),
    )
    upstream_poll_seconds: int = field(
        default=60,
        metadata=_meta("KENG_UPSTREAM_POLL_SECONDS", "How often upstream notices are pulled."),
    )
    upstream_report_seconds: int = field(
        default=900,
        metadata=_meta(
            "KENG_UPSTREAM_REPORT_SECONDS",
            "How often daily statistics reports are prepared and unsent ones sent upstream.",
        ),
    )
    upstream_report_backfill_days: int = field(
        default=7,
        metadata=_meta(
            "KENG_UPSTREAM_REPORT_BACKFILL_DAYS", "Days of reports made on the first round (then every day)."
        ),
    )
    upstream_auto_publish_emergency: bool = field(
        default=False,
        metadata=_meta(
            "KENG_UPSTREAM_AUTO_PUBLISH_EMERGENCY",
            "Publish upstream emergency notices (and their updates) here at once, without waiting for an "
            "approver (1/0).",
        ),
    )

    device_claim_hours: int = field(
        default=72,
        metadata=_meta("KENG_DEVICE_CLAIM_HOURS", "Hours a device claim code stays valid (it is used once)."),
    )
    device_offline_seconds_cluster: int = field(
        default=180,
        metadata=_meta(
            "KENG_DEVICE_OFFLINE_SECONDS_CLUSTER",
            "Seconds without traffic after which a loudspeaker cluster counts as offline.",
        ),
    )
    device_offline_seconds_eboard: int = field(
        default=300,
        metadata=_meta(
            "KENG_DEVICE_OFFLINE_SECONDS_EBOARD",
            "Seconds without traffic after which an e-board counts as offline.",
        ),
    )
    device_offline_seconds_receiver: int = field(
        default=3600,
        metadata=_meta(
            "KENG_DEVICE_OFFLINE_SECONDS_RECEIVER",
            "Seconds without traffic after which a household receiver counts as offline.",
        ),
    )
    device_command_ttl_seconds: int = field(
        default=3600,
        metadata=_meta(
            "KENG_DEVICE_COMMAND_TTL_SECONDS",
            "Default lifetime of a device command waiting for an offline device (then expired).",
        ),
    )
    device_command_reply_seconds: int = field(
        default=60,
        metadata=_meta(
            "KENG_DEVICE_COMMAND_REPLY_SECONDS",
            "Seconds a sent command waits for the device's reply before it is timed out.",
        ),
    )
    mqtt_server_username: str = field(
        default="keng-server",
        metadata=_meta(
            "KENG_MQTT_SERVER_USERNAME",
            "MQTT username of Kẻng itself on the embedded broker and in the exported Mosquitto files; its "
            "password is kept in <keys dir>/mqtt-server.secret (made on first start).",
        ),
    )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'keng.db').as_posix()}"

    @property
    def effective_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @property
    def effective_public_url(self) -> str:
        """Where devices fetch media: manifests are built by workers, with no request to copy from."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def mqtt_embedded(self) -> bool:
        return self.mqtt_url == "embedded"

    @property
    def effective_cap_sender(self) -> str:
        return self.cap_sender or f"keng@tinh{self.province_code}.local"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``KENG_*`` variables; explicit overrides (CLI flags) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            setting: Setting = f.metadata["setting"]
            raw = env.get(setting.env)
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.type, raw, setting.env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def documented(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for every setting, for help texts and docs."""
        out = []
        for f in fields(cls):
            setting: Setting = f.metadata["setting"]
            out.append((setting.env, str(f.default), setting.help))
        return out


def test_urls(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The optional PostgreSQL and Mosquitto URLs the test suite also runs against."""
    env = os.environ if environ is None else environ
    return env.get("KENG_TEST_DATABASE_URL") or None, env.get("KENG_TEST_MQTT_URL") or None


def _convert(type_name: Any, raw: str, env_name: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if "Path" in kind:
            return Path(raw)
    except ValueError as exc:
        raise SystemExit(f"{env_name}={raw!r} is not a valid {kind}") from exc
    return raw
