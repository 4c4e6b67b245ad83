"""Feedback submission and the citizen's side of tracking: list, read, add information, rate, reopen.

Submission is idempotent by the phone's ``client_id``: the first call stores the report (201), any
later call with the same id returns it unchanged (200) — before rate limits are counted, so a retry
over a bad connection is never refused. The same id with different content is a 409, not a silent
overwrite. Media files are written before the rows that name them, so no row points at nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.citizen.feedback import media
from backend.citizen.feedback.schemas import (
    EventOut,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    FeedbackSummary,
    MediaOut,
    group_of,
)
from backend.citizen.feedback.tables import Feedback, FeedbackEvent, FeedbackMedia
from backend.core.accounts.permissions import Actor
from backend.core.areas.tables import Area
from backend.core.categories import services as categories
from backend.core.changes.services import record_change
from backend.lib.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.lib.paging import decode_cursor, encode_cursor
from backend.lib.ratelimit import RateLimiter
from backend.officials.feedback import intake
from backend.runtime import Runtime

ANSWERED_STATES = ("answered", "resolved")


@dataclass
class SubmitLimits:
    """Per-device and per-address limits on *new* reports. A client_id is counted once, so neither a
    retry of a stored report nor a burst of concurrent retries of the same one uses up the budget."""

    per_device: RateLimiter
    per_addr: RateLimiter
    max_seen: int = 100_000
    _seen: dict[str, None] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, rt: Runtime) -> SubmitLimits:
        s = rt.settings
        return cls(
            per_device=RateLimiter(s.feedback_device_rate_per_hour, window_seconds=3600),
            per_addr=RateLimiter(s.feedback_ip_rate_per_minute, window_seconds=60),
        )

    def hit(self, now: datetime, device: str | None, addr: str, client_id: str | None = None) -> None:
        if client_id is not None:
            key = f"{device}:{client_id}"
            if key in self._seen:
                return
        if device:
            self.per_device.hit(f"device:{device}", now)
        if addr:
            self.per_addr.hit(f"addr:{addr}", now)
        if client_id is not None:
            if len(self._seen) >= self.max_seen:
                self._seen.clear()
            self._seen[key] = None


@dataclass(frozen=True)
class Location:
    area_code: str | None
    area_path: str | None
    lat: float | None
    long: float | None
    address: str
    area_name: str | None = None


@dataclass(frozen=True)
class NewFeedback:
    """Everything needed to store a report, already validated."""

    category: str
    text: str
    location: Location
    anonymous: bool
    media: Sequence[media.MediaFile] = ()
    account: uuid.UUID | None = None
    client_id: str | None = None
    source: str = "app"
    api_key: uuid.UUID | None = None
    contact: dict[str, str] | None = None
    fingerprint: str = ""
    media_url: str = ""
    feedback_id: uuid.UUID | None = None  # chosen by an official's phone for a report taken on paper


class FeedbackStateError(Conflict):
    default_code = "feedback_state"
    default_key = "error.feedback_state"


def require_citizen(actor: Actor) -> uuid.UUID:
    if actor.kind != "citizen" or actor.account_id is None:
        raise Forbidden("citizens_only", details={"kind": actor.kind})
    return actor.account_id


def clean_text(text: str, field: str = "text") -> str:
    value = nfc(text.strip())
    if not value:
        raise ValidationFailed([{"field": field, "reason": "must not be blank"}])
    return value


async def resolve_location(
    rt: Runtime,
    area_code: str | None,
    lat: float | None,
    long: float | None,
    address: str = "",
    field: str = "area_code",
) -> Location:
    """An area code, or a latitude and longitude, or both; unknown areas name the field."""
    errors = []
    if (lat is None) != (long is None):
        errors.append({"field": "lat" if lat is None else "long", "reason": "lat and long go together"})
    if area_code is None and lat is None and long is None:
        errors.append({"field": field, "reason": "give an area code or lat and long"})
    if errors:
        raise ValidationFailed(errors)
    path = name = None
    if area_code is not None:
        area = await Area.select(Area.path, Area.name).where(Area.code == area_code).first()
        if area is None:
            raise ValidationFailed([{"field": field, "reason": f"unknown area code {area_code}"}])
        path, name = area["path"], area["name"]
    return Location(
        area_code=area_code, area_path=path, lat=lat, long=long, address=nfc(address.strip()), area_name=name
    )


def fingerprint(data: FeedbackIn, files: Sequence[media.MediaFile]) -> str:
    body = {
        "category": data.category,
        "text": nfc(data.text.strip()),
        "area_code": data.area_code,
        "lat": data.lat,
        "long": data.long,
        "address": nfc(data.address.strip()),
        "anonymous": data.anonymous,
        "media": [[f.kind, f.sha256] for f in files],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_media(rt: Runtime, uploads: Sequence[tuple[str, bytes]]) -> list[media.MediaFile]:
    """``uploads`` is ``[(kind, bytes)]`` with kind ``photo`` or ``voice``: up to 5 photos or 1 voice."""
    photos = sum(1 for kind, _ in uploads if kind == "photo")
    voices = sum(1 for kind, _ in uploads if kind == "voice")
    if photos > media.MAX_PHOTOS:
        raise ValidationFailed([{"field": "photos", "reason": f"at most {media.MAX_PHOTOS} photos"}])
    if voices > media.MAX_VOICE or (voices and photos):
        raise ValidationFailed([{"field": "voice", "reason": "either up to 5 photos or one voice note"}])
    limit = rt.settings.feedback_max_media_bytes
    out = []
    counters = {"photo": 0, "voice": 0}
    for kind, data in uploads:
        field = f"photos[{counters[kind]}]" if kind == "photo" else "voice"
        counters[kind] += 1
        out.append(media.check(kind, data, limit, field))
    return out


async def submit(
    rt: Runtime,
    actor: Actor,
    data: FeedbackIn,
    uploads: Sequence[tuple[str, bytes]] = (),
    limits: SubmitLimits | None = None,
) -> tuple[FeedbackOut, bool]:
    """Store a citizen's report; returns (report, created). A retry returns the stored one."""
    account_id = require_citizen(actor)
    files = check_media(rt, uploads)
    print_ = fingerprint(data, files)
    existing = await _by_client_id(account_id, data.client_id)
    if existing is not None:
        return await _replay(rt, existing, print_), False
    if limits is not None:
        limits.hit(rt.clock.now(), str(account_id), actor.client_addr, data.client_id)
    await categories.require_active(rt, data.category, field="category")
    location = await resolve_location(rt, data.area_code, data.lat, data.long, data.address)
    new = NewFeedback(
        category=data.category,
        text=clean_text(data.text),
        location=location,
        anonymous=data.anonymous,
        media=files,
        account=account_id,
        client_id=data.client_id,
        fingerprint=print_,
    )
    try:
        row, event = await create(rt, new, actor_role="citizen")
    except Exception:
        # Two attempts with the same client_id raced; the loser answers with the winner's report.
        existing = await _by_client_id(account_id, data.client_id)
        if existing is None:
            raise
        return await _replay(rt, existing, print_), False
    stored = [MediaOut(kind=m.kind, mime=m.mime, size=m.size, sha256=m.sha256) for m in files]
    return build_out(rt, row, stored, [event], location.area_name), True


async def _by_client_id(account_id: uuid.UUID, client_id: str) -> dict[str, Any] | None:
    return (
        await Feedback.select(Feedback.id, Feedback.account, Feedback.fingerprint)
        .where((Feedback.account == account_id) & (Feedback.client_id == client_id))
        .first()
    )


async def _replay(rt: Runtime, row: dict[str, Any], print_: str) -> FeedbackOut:
    if row["fingerprint"] != print_:
        raise Conflict(
            "client_id_reused",
            message_key="error.client_id_reused",
            details={"field": "client_id", "feedback_id": str(row["id"])},
        )
    return await get_for_owner(rt, row["account"], row["id"])


def new_token() -> str:
    return secrets.token_urlsafe(12)


async def create(
    rt: Runtime, new: NewFeedback, actor_role: str, actor_id: uuid.UUID | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write media files, then the report, its media rows and its first history entry in one
    transaction; returns the stored report and entry. Raises the database's integrity error when
    the client_id is taken."""
    for item in new.media:
        await asyncio.to_thread(media.store, rt.settings.media_dir, item)
    now = rt.clock.now()
    feedback_id = new.feedback_id or uuid.uuid4()
    loc = new.location
    row: dict[str, Any] = {
        "id": feedback_id,
        "token": new_token(),
        "client_id": new.client_id,
        "account": new.account,
        "source": new.source,
        "api_key": new.api_key,
        "category": new.category,
        "area_code": loc.area_code,
        "area_path": loc.area_path,
        "lat": loc.lat,
        "long": loc.long,
        "address": loc.address,
        "media_url": new.media_url,
        "text": new.text,
        "anonymous": new.anonymous,
        "contact": new.contact or {},
        "status": "received",
        "fingerprint": new.fingerprint,
        "created_at": now,
        "updated_at": now,
    }
    event: dict[str, Any] = {
        "feedback": feedback_id,
        "at": now,
        "kind": "submitted",
        "to_status": "received",
        "text": "",
        "rating": None,
        "actor_id": actor_id if actor_id is not None else new.account,
        "actor_role": actor_role,
    }
    async with rt.db.transaction():
        await Feedback.insert(Feedback(**row))
        if new.media:
            await FeedbackMedia.insert(
                *[
                    FeedbackMedia(
                        id=uuid.uuid4(),
                        feedback=feedback_id,
                        position=i,
                        kind=item.kind,
                        sha256=item.sha256,
                        size=item.size,
                        mime=item.mime,
                        created_at=now,
                    )
                    for i, item in enumerate(new.media)
                ]
            )
        await FeedbackEvent.insert(FeedbackEvent(**event))
        # Routing, deadlines and a duplicate hint for the staff queue, in the same transaction.
        handling = await intake.on_received(rt, row)
        # Officials' phones receive it (sync reads the change log).
        await record_change(
            rt,
            table="feedback",
            row_id=str(feedback_id),
            op="upsert",
            area_paths=[handling["path"]],
            actor_id=event["actor_id"],
        )
    return {**row, "rating": None, "answered_at": None}, event


# --------------------------------------------------------------------------------------------------
# Reading


async def own_row(account_id: uuid.UUID, feedback_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Feedback.select().where((Feedback.id == feedback_id) & (Feedback.account == account_id)).first()
    )
    if row is None:
        raise NotFound("feedback")
    return row


def reopen_until(rt: Runtime, row: dict[str, Any]) -> datetime | None:
    if row["status"] not in ANSWERED_STATES or row["answered_at"] is None:
        return None
    return row["answered_at"] + timedelta(days=rt.settings.feedback_reopen_days)


_BY = {"citizen": "citizen", "open311": "citizen", "system": "system"}


async def _out(rt: Runtime, row: dict[str, Any]) -> FeedbackOut:
    media_rows = (
        await FeedbackMedia.select(
            FeedbackMedia.kind, FeedbackMedia.mime, FeedbackMedia.size, FeedbackMedia.sha256
        )
        .where(FeedbackMedia.feedback == row["id"])
        .order_by(FeedbackMedia.position)
    )
    events = (
        await FeedbackEvent.select()
        .where((FeedbackEvent.feedback == row["id"]) & (FeedbackEvent.public == True))  # noqa: E712
        .order_by(FeedbackEvent.id)
    )
    area_name = None
    if row["area_code"]:
        area = await Area.select(Area.name).where(Area.code == row["area_code"]).first()
        area_name = area["name"] if area else None
    return build_out(rt, row, [MediaOut(**m) for m in media_rows], events, area_name)


REPORT_FIELDS = (
    "id",
    "token",
    "category",
    "status",
    "area_code",
    "lat",
    "long",
    "address",
    "text",
    "anonymous",
    "rating",
    "created_at",
    "updated_at",
    "answered_at",
)


def report_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The columns every view of a report shows as they are stored (citizen's and staff's alike)."""
    return {name: row[name] for name in REPORT_FIELDS}


def build_out(
    rt: Runtime,
    row: dict[str, Any],
    media_items: list[MediaOut],
    events: list[dict[str, Any]],
    area_name: str | None,
) -> FeedbackOut:
    return FeedbackOut(
        **report_fields(row),
        client_id=row["client_id"],
        status_group=group_of(row["status"]),
        area_name=area_name,
        can_add_information=row["status"] == "waiting_for_citizen",
        can_rate=row["status"] in ANSWERED_STATES and row["rating"] is None,
        reopen_until=reopen_until(rt, row),
        media=media_items,
        history=[
            EventOut(
                at=e["at"],
                kind=e["kind"],
                by=_BY.get(e["actor_role"], "handler"),
                status=e["to_status"] or None,
                text=e["text"] or None,
                rating=e["rating"],
            )
            for e in events
        ],
    )


async def get_for_owner(rt: Runtime, account_id: uuid.UUID, feedback_id: uuid.UUID) -> FeedbackOut:
    return await _out(rt, await own_row(account_id, feedback_id))


async def get(rt: Runtime, actor: Actor, feedback_id: uuid.UUID) -> FeedbackOut:
    return await get_for_owner(rt, require_citizen(actor), feedback_id)


async def list_mine(rt: Runtime, actor: Actor, cursor: str | None, limit: int) -> FeedbackList:
    account_id = require_citizen(actor)
    query = Feedback.select(
        Feedback.id,
        Feedback.token,
        Feedback.client_id,
        Feedback.category,
        Feedback.status,
        Feedback.area_code,
        Feedback.text,
        Feedback.created_at,
        Feedback.updated_at,
    ).where(Feedback.account == account_id)
    if cursor:
        key = decode_cursor(cursor)
        try:
            at, last = datetime.fromisoformat(key["at"]), uuid.UUID(key["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                "bad_cursor", details={"field": "cursor", "reason": "not a cursor from this API"}
            ) from exc
        query = query.where((Feedback.created_at < at) | ((Feedback.created_at == at) & (Feedback.id < last)))
    rows = (
        await query.order_by(Feedback.created_at, ascending=False)
        .order_by(Feedback.id, ascending=False)
        .limit(limit + 1)
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last_row = page[-1]
        next_cursor = encode_cursor({"at": last_row["created_at"].isoformat(), "id": str(last_row["id"])})
    return FeedbackList(
        items=[FeedbackSummary(**r, status_group=group_of(r["status"])) for r in page],
        next_cursor=next_cursor,
    )
