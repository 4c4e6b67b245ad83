"""Application factory: routers, lifespans, dependency injection, error mapping, OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from litestar import Litestar, Request, get
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from backend.adapters.broker import EmbeddedBroker
from backend.adapters.clock import Clock, SystemClock
from backend.adapters.mqtt import BrokerAddress, MessageBus, MqttBus
from backend.adapters.tts import TextToSpeech
from backend.adapters.upstream import UpstreamRefused, UpstreamUnavailable
from backend.broadcast import refresh as broadcast_refresh
from backend.broadcast.audio.controllers import MediaController
from backend.broadcast.cap.controllers import CapController
from backend.broadcast.log.controllers import BroadcastLogController
from backend.broadcast.manifests.controllers import GroupManifestController, ProvinceKeyController
from backend.broadcast.schedules.controllers import ScheduleController
from backend.broadcast.stations.controllers import StationController
from backend.channels import build_channel_handlers
from backend.citizen.controllers import CitizenController
from backend.citizen.feed.controllers import FeedController
from backend.citizen.feedback.controllers import FeedbackController
from backend.citizen.feedback.open311_controllers import Open311Controller
from backend.citizen.push.controllers import (
    DeliveryStatsController,
    PushRegistrationController,
    VapidKeyController,
)
from backend.citizen.sms.controllers import (
    SmsNoticeController,
    SmsReceiptController,
    SmsSubscriptionController,
)
from backend.citizen.subscriptions.controllers import SubscriptionController
from backend.citizen.website.controllers import WebsiteFeedController
from backend.core.accounts.controllers import AccountController, AuthController
from backend.core.areas.controllers import AreaController
from backend.core.audit.controllers import AuditController
from backend.core.categories import services as categories
from backend.core.categories.controllers import CategoryController
from backend.core.notices import flows as notice_flows
from backend.core.notices.controllers import NoticeController
from backend.core.outbox.services import OutboxWorker
from backend.deps import DEPENDENCIES
from backend.devices import mosquitto
from backend.devices import mqtt_handlers as device_mqtt
from backend.devices.broker_guard import DeviceBrokerGuard
from backend.devices.commands import services as device_commands
from backend.devices.commands.controllers import DeviceCommandController
from backend.devices.controllers import DeviceController, ProvisioningController
from backend.devices.device_api import DeviceApiController
from backend.devices.health import presence as device_presence
from backend.devices.health.controllers import DeviceHealthController
from backend.devices.intake import DeviceIntake
from backend.devices.player.controllers import BoardPlayerController
from backend.devices.proof.controllers import NoticeDeviceController
from backend.devices.server_account import server_credentials
from backend.lib import migrations
from backend.lib.db import Database
from backend.lib.errors import DomainError
from backend.lib.http import (
    domain_error_handler,
    errors,
    http_error_handler,
    internal_error_handler,
    request_decompression_middleware,
    request_id_middleware,
)
from backend.lib.ratelimit import RateLimiter
from backend.officials.console.controllers import console_router
from backend.officials.console.pages import html_errors, template_config
from backend.officials.feedback import sweep as feedback_sweep
from backend.officials.feedback.config_controllers import FeedbackConfigController
from backend.officials.feedback.controllers import StaffFeedbackController
from backend.officials.inbox.controllers import StaffNotificationController
from backend.officials.reports.controllers import ReportController
from backend.runtime import Runtime
from backend.settings import Settings
from backend.sync import horizon as sync_horizon
from backend.sync.blob_controllers import BlobController
from backend.sync.controllers import SyncController
from backend.tables import ALL_TABLES
from backend.training.controllers import TrainingController
from backend.upstream import pull as upstream_pull
from backend.upstream import push_reports as upstream_push_reports
from backend.upstream.controllers import DownstreamController, FederationController, UpstreamController

log = logging.getLogger("keng")

API_VERSION = "1.0.0"
EXPIRY_SWEEP_SECONDS = 60
FEEDBACK_SWEEP_SECONDS = 300
BROADCAST_REFRESH_SECONDS = 3600
SYNC_PRUNE_SECONDS = 3600
DEVICE_SWEEP_SECONDS = 15


@dataclass
class Overrides:
    """Parts a test or benchmark may swap: a fake clock or bus, or no background workers."""

    clock: Clock | None = None
    bus: MessageBus | None = None
    tts: TextToSpeech | None = None


@get(
    "/health",
    operation_id="health",
    summary="Liveness: the process answers",
    tags=["system"],
    include_in_schema=True,
)
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/ready",
    operation_id="ready",
    summary="Readiness: database and broker reachable",
    tags=["system"],
    responses=errors(503),
)
async def ready(request: Request) -> dict[str, object]:
    rt: Runtime = request.app.state.rt
    db_ok = await rt.db.ping()
    bus_ok = bool(rt.bus.connected)
    body: dict[str, object] = {
        "status": "ok" if db_ok and bus_ok else "unavailable",
        "database": db_ok,
        "broker": bus_ok,
    }
    if not (db_ok and bus_ok):
        raise HTTPException(status_code=503, detail="not ready", extra=body)
    return body


def create_app(settings: Settings, overrides: Overrides | None = None) -> Litestar:
    overrides = overrides or Overrides()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.effective_database_url)
        async with db.session(ALL_TABLES):
            await migrations.migrate(db)
            broker: EmbeddedBroker | None = None
            guard: DeviceBrokerGuard | None = None
            bus = overrides.bus
            mqtt: MqttBus | None = None
            if bus is None:
                # Kẻng logs in with its own account (devices with theirs), unless the URL names one.
                username, password = server_credentials(settings)
                if settings.mqtt_embedded:
                    guard = DeviceBrokerGuard(settings)
                    broker = EmbeddedBroker(settings.mqtt_host, settings.mqtt_port, guard)
                    await broker.start()
                    address = BrokerAddress(broker.host, broker.port, username, password)
                else:
                    address = BrokerAddress.parse(settings.mqtt_url)
                    if address.username is None:
                        address = dataclasses.replace(address, username=username, password=password)
                mqtt = MqttBus(address, client_id=f"keng-server-{uuid.uuid4().hex[:8]}")
                bus = mqtt
            rt = Runtime.open(
                settings,
                db,
                overrides.clock or SystemClock(),
                bus,
                build_channel_handlers(settings),
                tts=overrides.tts,
            )
            app.state.rt = rt
            app.state.broker = broker
            if guard is not None:
                guard.bind(rt)
            elif settings.mosquitto_auth_dir is not None:
                auth_files = mosquitto.AuthFiles(rt, settings.mosquitto_auth_dir, settings.mosquitto_pid_file)
                await auth_files.changed()
                rt.credential_listeners.append(auth_files.changed)
            intake = DeviceIntake(rt)
            app.state.device_intake = intake
            device_mqtt.register(rt, intake)  # before the bus connects: it subscribes on connect
            intake.start()
            app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)
            await categories.seed_defaults(rt)
            if mqtt is not None:
                await mqtt.start()
            worker = OutboxWorker(rt)
            app.state.worker = worker
            sweeper: asyncio.Task[None] | None = None
            feedback_sweeper: asyncio.Task[None] | None = None
            broadcast_refresher: asyncio.Task[None] | None = None
            sync_pruner: asyncio.Task[None] | None = None
            device_sweeper: asyncio.Task[None] | None = None
            upstream_tasks: list[asyncio.Task[None]] = []
            if settings.run_workers and settings.upstream_url:
                upstream_tasks = [
                    asyncio.create_task(
                        _every(settings.upstream_poll_seconds, "upstream pull", rt, _pull_upstream),
                        name="upstream-pull",
                    ),
                    asyncio.create_task(
                        _every(
                            settings.upstream_report_seconds, "upstream reports", rt, upstream_push_reports
                        ),
                        name="upstream-reports",
                    ),
                ]
            if settings.run_workers:
                worker.start()
                sweeper = asyncio.create_task(
                    _every(EXPIRY_SWEEP_SECONDS, "notice expiry", rt, _expire_notices), name="expiry-sweeper"
                )
                feedback_sweeper = asyncio.create_task(
                    _every(FEEDBACK_SWEEP_SECONDS, "feedback sweep", rt, _sweep_feedback),
                    name="feedback-sweeper",
                )
                broadcast_refresher = asyncio.create_task(
                    _every(BROADCAST_REFRESH_SECONDS, "broadcast refresh", rt, broadcast_refresh.refresh_due),
                    name="broadcast-refresher",
                )
                sync_pruner = asyncio.create_task(
                    _every(SYNC_PRUNE_SECONDS, "sync tombstone horizon", rt, _prune_sync), name="sync-pruner"
                )
                device_sweeper = asyncio.create_task(
                    _every(DEVICE_SWEEP_SECONDS, "device presence and commands", rt, _sweep_devices),
                    name="device-sweeper",
                )
            try:
                yield
            finally:
                for task in (
                    sweeper,
                    feedback_sweeper,
                    broadcast_refresher,
                    sync_pruner,
                    device_sweeper,
                    *upstream_tasks,
                ):
                    if task:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                await worker.stop()
                if mqtt is not None:
                    await mqtt.stop()
                await intake.stop()
                if broker is not None:
                    await broker.stop()

    return Litestar(
        route_handlers=[
            health,
            ready,
            AuthController,
            AccountController,
            CitizenController,
            SubscriptionController,
            FeedbackController,
            StaffFeedbackController,
            FeedbackConfigController,
            Open311Controller,
            FeedController,
            PushRegistrationController,
            VapidKeyController,
            DeliveryStatsController,
            SmsSubscriptionController,
            SmsNoticeController,
            SmsReceiptController,
            WebsiteFeedController,
            FederationController,
            DownstreamController,
            UpstreamController,
            AreaController,
            CategoryController,
            NoticeController,
            AuditController,
            CapController,
            ProvinceKeyController,
            StationController,
            GroupManifestController,
            BroadcastLogController,
            MediaController,
            ScheduleController,
            ReportController,
            SyncController,
            BlobController,
            TrainingController,
            DeviceController,
            ProvisioningController,
            DeviceHealthController,
            DeviceCommandController,
            DeviceApiController,
            StaffNotificationController,
            NoticeDeviceController,
            BoardPlayerController,
            console_router,
        ],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        middleware=[request_id_middleware, request_decompression_middleware],
        # The staff console (/console) shows errors as pages; everything else as the JSON envelope.
        exception_handlers={
            DomainError: html_errors(domain_error_handler),
            HTTPException: html_errors(http_error_handler),
            Exception: html_errors(internal_error_handler),
        },
        template_config=template_config(),
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=500, gzip_compress_level=6, exclude_opt_key="skip_compression"
        ),
        openapi_config=openapi_config(),
        debug=False,
        # Logging is configured once by the process (backend.lib.logs), not reset by the framework.
        logging_config=None,
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Kẻng API",
        version=API_VERSION,
        description="Hệ thống thông tin nguồn cấp tỉnh — provincial source-information system for grassroots information.",
        path="/schema",
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                # Devices: their id and password, as on MQTT (the /api/v1/device endpoints).
                "device": SecurityScheme(type="http", scheme="basic"),
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )


async def _expire_notices(rt: Runtime) -> object:
    return await notice_flows.expire_due(rt)


async def _sweep_feedback(rt: Runtime) -> object:
    result = await feedback_sweep.sweep(rt)
    return result if (result.reminders or result.overdue or result.escalations or result.created) else None


async def _sweep_devices(rt: Runtime) -> object:
    offline = await device_presence.sweep(rt)
    ended = await device_commands.sweep(rt)
    return {"offline": offline, "commands_ended": ended} if offline or ended else None


async def _prune_sync(rt: Runtime) -> object:
    result = await sync_horizon.prune(rt)
    return result if result.rows else None


async def _pull_upstream(rt: Runtime) -> object:
    """An unreachable upstream is logged by the pull and retried next round, not a failure here."""
    try:
        return await upstream_pull(rt)
    except (UpstreamUnavailable, UpstreamRefused):
        return None


async def _every(seconds: float, name: str, rt: Runtime, job: Callable[[Runtime], Awaitable[object]]) -> None:
    """Run a periodic job for the life of the process; a failed round is logged, never fatal."""
    while True:
        try:
            result = await job(rt)
            if result:
                log.info("%s: %s", name, result)
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(seconds)
