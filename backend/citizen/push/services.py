"""Push registration rules and delivery statistics.

A Web Push endpoint is a URL the server will POST to, so it must be ``https`` on a known push
service (``KENG_WEBPUSH_HOSTS``); its keys must be a real P-256 point and a 16-byte secret. An
endpoint or token belongs to one account: a subscription replayed by another account, one the push
service already reported gone, or one past its ``expirationTime`` is refused and changes nothing."""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from backend.adapters.push import VapidKeys, b64url_decode
from backend.citizen.push.schemas import (
    ChannelStats,
    DeliveryStats,
    PushRegistrationIn,
    PushRegistrationList,
    PushRegistrationOut,
    VapidPublicKey,
)
from backend.citizen.push.tables import PushRegistration
from backend.citizen.subscriptions.services import require_citizen
from backend.core.accounts.permissions import Actor, Permission
from backend.core.notices import services as notices
from backend.devices.proof import services as device_proof
from backend.lib.errors import Conflict, NotFound, ValidationFailed, field_error
from backend.runtime import Runtime
from backend.settings import Settings

UNREGISTERED = "unregistered"
FCM_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.")


@cache
def _vapid_keys(folder: Path) -> VapidKeys:
    return VapidKeys.load_or_create(folder)


def vapid_keys(settings: Settings) -> VapidKeys:
    """The VAPID key pair under ``<keys dir>/vapid``, created on first use (first start)."""
    return _vapid_keys(settings.effective_keys_dir / "vapid")


def vapid_public_key(rt: Runtime) -> VapidPublicKey:
    return VapidPublicKey(public_key=vapid_keys(rt.settings).public_key)


def endpoint_key(kind: str, endpoint: str) -> str:
    return hashlib.sha256(f"{kind}\n{endpoint}".encode()).hexdigest()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(settings: Settings, endpoint: str) -> None:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = [h.strip().lower() for h in settings.webpush_hosts.split(",") if h.strip()]
    reason = None
    if parts.scheme not in {"https", "http"} or not host or parts.username or parts.password:
        reason = "must be an https URL of a push service"
    elif not any(h == "*" or host == h or host.endswith("." + h) for h in allowed):
        reason = f"{host} is not a known push service"
    elif parts.scheme == "http" and not (_is_loopback(host) and host in allowed):
        reason = "must use https"
    if reason:
        raise field_error("subscription.endpoint", reason)


def check_keys(p256dh: str, auth: str) -> None:
    errors = []
    try:
        raw = b64url_decode(p256dh)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, TypeError):
        errors.append({"field": "subscription.keys.p256dh", "reason": "not a base64url P-256 public key"})
    try:
        if len(b64url_decode(auth)) != 16:
            raise ValueError("length")
    except (ValueError, TypeError):
        errors.append({"field": "subscription.keys.auth", "reason": "not a base64url 16-byte secret"})
    if errors:
        raise ValidationFailed(errors)


def _validated(rt: Runtime, data: PushRegistrationIn) -> dict[str, Any]:
    """Column values for a registration, or a precise 422."""
    now = rt.clock.now()
    if data.kind == "webpush":
        sub = data.subscription
        if sub is None or data.token is not None:
            raise ValidationFailed(
                [
                    {
                        "field": "subscription",
                        "reason": "a Web Push registration sends the subscription, no token",
                    }
                ]
            )
        check_endpoint(rt.settings, sub.endpoint)
        check_keys(sub.keys.p256dh, sub.keys.auth)
        expires_at = None
        if sub.expirationTime is not None:
            expires_at = datetime.fromtimestamp(sub.expirationTime / 1000, UTC)
            if expires_at <= now:
                raise field_error("subscription.expirationTime", "the subscription has already expired")
        return {
            "endpoint": sub.endpoint,
            "p256dh": sub.keys.p256dh,
            "auth": sub.keys.auth,
            "expires_at": expires_at,
        }
    token = data.token
    if token is None or data.subscription is not None:
        raise ValidationFailed(
            [{"field": "token", "reason": "an FCM registration sends the token, no subscription"}]
        )
    if not set(token) <= FCM_TOKEN_CHARS:
        raise field_error("token", "not an FCM registration token")
    return {"endpoint": token, "p256dh": "", "auth": "", "expires_at": None}


async def register(rt: Runtime, actor: Actor, data: PushRegistrationIn) -> tuple[PushRegistrationOut, bool]:
    """Register a device; returns (registration, created). Repeating the same registration is a no-op."""
    account_id = require_citizen(actor)
    values = _validated(rt, data)
    key = endpoint_key(data.kind, values["endpoint"])
    async with rt.db.transaction():
        # Insert-or-nothing on the unique endpoint key: two phones racing to register the same
        # endpoint get one row and a replay check, never a unique-violation error.
        inserted = await (
            PushRegistration.insert(
                PushRegistration(
                    id=uuid.uuid4(),
                    account=account_id,
                    kind=data.kind,
                    endpoint_key=key,
                    device_id=data.device_id,
                    language=data.language,
                    created_at=rt.clock.now(),
                    **values,
                )
            )
            .on_conflict(target=PushRegistration.endpoint_key, action="DO NOTHING")
            .returning(PushRegistration.id)
        )
        created = bool(inserted)
        if created:
            reg_id = inserted[0]["id"]
        else:
            row = await PushRegistration.select().where(PushRegistration.endpoint_key == key).first()
            assert row is not None
            reg_id = row["id"]
            _check_replay(row, account_id, values)
            changes: dict[Any, Any] = {}
            if row["pruned_at"] is not None:
                changes.update({PushRegistration.pruned_at: None, PushRegistration.pruned_reason: ""})
            for column, value in (
                (PushRegistration.device_id, data.device_id),
                (PushRegistration.language, data.language),
                (PushRegistration.expires_at, values["expires_at"]),
            ):
                if row[column._meta.name] != value:
                    changes[column] = value
            if changes:
                await PushRegistration.update(changes).where(PushRegistration.id == reg_id)
    return await _get(account_id, reg_id), created


def _check_replay(row: dict[str, Any], account_id: uuid.UUID, values: dict[str, Any]) -> None:
    if str(row["account"]) != str(account_id):
        raise Conflict(
            "push_endpoint_taken",
            message_key="error.push_endpoint_taken",
            details={"field": "endpoint"},
        )
    if row["pruned_at"] is not None and row["pruned_reason"] != UNREGISTERED:
        raise Conflict(
            "push_registration_gone",
            message_key="error.push_registration_gone",
            details={"reason": row["pruned_reason"], "since": row["pruned_at"].isoformat()},
        )
    if row["p256dh"] != values["p256dh"] or row["auth"] != values["auth"]:
        raise Conflict("push_keys_mismatch", message_key="error.push_keys_mismatch")


def _out(row: dict[str, Any]) -> PushRegistrationOut:
    service = "fcm"
    if row["kind"] == "webpush":
        parts = urlsplit(row["endpoint"])
        service = f"{parts.scheme}://{parts.netloc}"
    return PushRegistrationOut(
        id=row["id"],
        kind=row["kind"],
        device_id=row["device_id"],
        language=row["language"],
        push_service=service,
        expires_at=row["expires_at"],
        created_at=row["created_at"],
    )


async def _get(account_id: uuid.UUID, reg_id: uuid.UUID) -> PushRegistrationOut:
    row = (
        await PushRegistration.select()
        .where((PushRegistration.id == reg_id) & (PushRegistration.account == account_id))
        .first()
    )
    if row is None:
        raise NotFound("push_registration", details={"id": str(reg_id)})
    return _out(row)


async def list_mine(rt: Runtime, actor: Actor) -> PushRegistrationList:
    account_id = require_citizen(actor)
    rows = (
        await PushRegistration.select()
        .where((PushRegistration.account == account_id) & PushRegistration.pruned_at.is_null())
        .order_by(PushRegistration.created_at)
    )
    return PushRegistrationList(items=[_out(r) for r in rows])


async def unregister(rt: Runtime, actor: Actor, reg_id: uuid.UUID) -> None:
    """The citizen turns push off on a device; delivery history stays for the statistics."""
    account_id = require_citizen(actor)
    updated = await (
        PushRegistration.update(
            {PushRegistration.pruned_at: rt.clock.now(), PushRegistration.pruned_reason: UNREGISTERED}
        )
        .where(
            (PushRegistration.id == reg_id)
            & (PushRegistration.account == account_id)
            & PushRegistration.pruned_at.is_null()
        )
        .returning(PushRegistration.id)
    )
    if not updated:
        raise NotFound("push_registration", details={"id": str(reg_id)})


PENDING_STATES = ("pending", "sending", "retry")


async def delivery_stats(rt: Runtime, actor: Actor, notice_id: uuid.UUID) -> DeliveryStats:
    """Per channel and event: targeted, sent, failed, pruned, still pending, skipped, opened."""
    await notices.get(rt, actor, notice_id)  # staff who may see the notice; 403/404 otherwise
    counts = await rt.db.fetch(
        'SELECT "channel", "event", "status", COUNT(*) AS n FROM "push_delivery" WHERE "notice" = {} '
        'GROUP BY "channel", "event", "status"',
        notice_id,
    )
    opened_by_channel = await rt.db.fetch(
        'SELECT d."channel", COUNT(DISTINCT rr."account") AS n FROM "read_receipt" rr '
        'JOIN "push_registration" r ON r."account" = rr."account" '
        'JOIN "push_delivery" d ON d."registration" = r."id" AND d."notice" = rr."notice" '
        'WHERE rr."notice" = {} AND d."event" = \'published\' AND d."status" = \'sent\' '
        'GROUP BY d."channel"',
        notice_id,
    )
    opened_total = await rt.db.fetchval(
        'SELECT COUNT(DISTINCT "account") AS n FROM "read_receipt" WHERE "notice" = {}', notice_id
    )
    opened = {r["channel"]: int(r["n"]) for r in opened_by_channel}
    table: dict[tuple[str, str], dict[str, int]] = {}
    for r in counts:
        table.setdefault((r["channel"], r["event"]), {})[r["status"]] = int(r["n"])
    channels = []
    for (channel, event), by_status in sorted(table.items()):
        channels.append(
            ChannelStats(
                channel=channel,  # type: ignore[arg-type]
                event=event,
                targeted=sum(by_status.values()),
                sent=by_status.get("sent", 0),
                failed=by_status.get("failed", 0),
                pruned=by_status.get("pruned", 0),
                pending=sum(by_status.get(s, 0) for s in PENDING_STATES),
                skipped=by_status.get("skipped", 0),
                opened=opened.get(channel, 0) if event == "published" else 0,
            )
        )
    devices = None
    if actor.grants_with(Permission.DEVICE_READ):
        devices = await device_proof.notice_coverage(rt, actor, notice_id)
    return DeliveryStats(
        notice_id=notice_id, channels=channels, opened=int(opened_total or 0), devices=devices
    )
