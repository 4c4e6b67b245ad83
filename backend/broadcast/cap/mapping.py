"""How a notice maps onto a CAP 1.2 alert.

Mapping (documented for aggregators and reviewers):

================  ========================  ============================================
notice            CAP                       notes
================  ========================  ============================================
category          ``category``              disaster → Met, Geo, Safety (storms, floods and
                                            landslides, and other emergencies); health →
                                            Health; security → Security; agriculture → Met
                                            (its notices are weather and crop seasons);
                                            environment → Env; every other category → Other
category name     ``event``                 Vietnamese name (English name for ``en`` blocks)
priority          ``urgency`` ``severity``  emergency → Immediate / Severe / Observed;
                  ``certainty``             priority → Expected / Moderate / Likely;
                                            normal → Future / Minor / Likely. A cancellation's
                                            urgency is Past (no action needed any more).
language version  one ``info`` each         ``vi`` → ``vi-VN`` (first); other tags as they are
title / body      ``headline`` / ``description``
valid_from        ``effective``             omitted when the notice has none
valid_until       ``expires``               or ``sent`` + KENG_CAP_DEFAULT_EXPIRES_HOURS
target areas      one ``area`` each         ``areaDesc`` = names up the tree ("Thôn Đông, Xã
                                            Hoằng Hóa, Thanh Hóa"); ``geocode`` VN-ADMIN-CODE =
                                            the official code
attachments       ``resource``              description, MIME type, size, uri when absolute;
                                            no ``digest``: CAP 1.2 wants SHA-1 of the file and
                                            Kẻng keeps only SHA-256, so none is claimed
================  ========================  ============================================
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from backend.broadcast.cap.render import cap_time
from backend.broadcast.cap.schemas import Alert, Area, Geocode, Info, Resource
from backend.core.areas.tables import Area as AreaRow
from backend.core.categories.tables import Category
from backend.core.notices.tables import NoticeTarget
from backend.lib.db import json_column
from backend.runtime import Runtime

GEOCODE_NAME = "VN-ADMIN-CODE"
CATEGORY_MAP: dict[str, tuple[str, ...]] = {
    "disaster": ("Met", "Geo", "Safety"),
    "health": ("Health",),
    "security": ("Security",),
    "agriculture": ("Met",),
    "environment": ("Env",),
}
OTHER = ("Other",)
# priority → (urgency, severity, certainty)
PRIORITY_MAP: dict[str, tuple[str, str, str]] = {
    "emergency": ("Immediate", "Severe", "Observed"),
    "priority": ("Expected", "Moderate", "Likely"),
    "normal": ("Future", "Minor", "Likely"),
}
LANGUAGES = {"vi": "vi-VN"}
RESOURCE_KINDS = {"audio": "Tệp âm thanh", "image": "Hình ảnh", "document": "Tài liệu", "video": "Video"}
WITHDRAWN_NOTE = "Bản tin đã được thu hồi."


def categories_for(category: str) -> tuple[str, ...]:
    return CATEGORY_MAP.get(category, OTHER)


def grading_for(priority: str) -> tuple[str, str, str]:
    return PRIORITY_MAP.get(priority, PRIORITY_MAP["normal"])


def check_sender(sender: str) -> str:
    if not sender or any(ch in sender for ch in " ,<&\t\n"):
        raise ValueError(f"KENG_CAP_SENDER {sender!r} must be non-empty, without spaces, commas, < or &")
    return sender


async def sender_name(rt: Runtime) -> str:
    if rt.settings.cap_sender_name:
        return rt.settings.cap_sender_name
    province = await AreaRow.select(AreaRow.name).where(AreaRow.code == rt.settings.province_code).first()
    if province is None:
        return "Hệ thống thông tin nguồn cấp tỉnh"
    return f"Hệ thống thông tin nguồn tỉnh {province['name']}"


async def build_alert(
    rt: Runtime,
    notice: dict[str, Any],
    *,
    identifier: str,
    sent: datetime,
    msg_type: str,
    earlier: list[dict[str, Any]],
    withdrawn: bool = False,
) -> Alert:
    name = await sender_name(rt)
    areas = await _areas(notice["id"])
    category = await Category.select().where(Category.code == notice["category"]).first()
    urgency, severity, certainty = grading_for(notice["priority"])
    if msg_type == "Cancel":
        urgency = "Past"
    expires = notice["valid_until"] or sent + timedelta(hours=rt.settings.cap_default_expires_hours)
    resources = [_resource(a) for a in json_column(notice["attachments"])]
    texts: dict[str, dict[str, str]] = json_column(notice["texts"])
    infos = [
        Info(
            language=LANGUAGES.get(lang, lang),
            categories=list(categories_for(notice["category"])),
            event=_event_name(category, notice["category"], lang),
            urgency=urgency,
            severity=severity,
            certainty=certainty,
            effective=notice["valid_from"],
            expires=expires.replace(microsecond=0),
            sender_name=name,
            headline=texts[lang]["title"],
            description=texts[lang]["body"],
            resources=resources,
            areas=areas,
        )
        for lang in sorted(texts, key=lambda code: (code != "vi", code))
    ]
    note = None
    if withdrawn:
        reason = notice["end_reason"] if notice["end_reason"] not in ("", "withdrawn") else ""
        note = f"{WITHDRAWN_NOTE} {reason}".strip()
    elif msg_type == "Cancel" and notice["end_reason"]:
        note = notice["end_reason"]
    references = " ".join(f"{m['sender']},{m['identifier']},{cap_time(m['sent'])}" for m in earlier)
    return Alert(
        identifier=identifier,
        sender=check_sender(rt.settings.effective_cap_sender),
        sent=sent,
        msg_type=msg_type,
        note=note,
        references=references if msg_type != "Alert" else None,
        infos=infos,
    )


def _event_name(category: dict[str, Any] | None, code: str, lang: str) -> str:
    if category is None:
        return code
    if lang.startswith("en") and category["name_en"]:
        return category["name_en"]
    return category["name_vi"]


async def _areas(notice_id: uuid.UUID) -> list[Area]:
    targets = await (
        NoticeTarget.select(NoticeTarget.area_code, NoticeTarget.area_path)
        .where(NoticeTarget.notice == notice_id)
        .order_by(NoticeTarget.area_code)
    )
    codes = {c for t in targets for c in t["area_path"].strip("/").split("/")}
    rows = await AreaRow.select(AreaRow.code, AreaRow.name, AreaRow.depth).where(
        AreaRow.code.is_in(sorted(codes) or ["-"])
    )
    names = {r["code"]: r["name"] for r in rows if r["depth"] > 0}
    out = []
    for t in targets:
        chain = [names[c] for c in reversed(t["area_path"].strip("/").split("/")) if c in names]
        out.append(
            Area(
                area_desc=", ".join(chain) or t["area_code"],
                geocodes=[Geocode(value_name=GEOCODE_NAME, value=t["area_code"])],
            )
        )
    return out


def _resource(attachment: dict[str, Any]) -> Resource:
    url = attachment.get("url") or ""
    parsed = urlparse(url)
    absolute = parsed.scheme in ("http", "https") and bool(parsed.netloc)
    return Resource(
        resource_desc=attachment.get("name")
        or RESOURCE_KINDS.get(attachment.get("kind", ""), "Tệp đính kèm"),
        mime_type=attachment["mime_type"],
        size=attachment.get("size"),
        uri=url if absolute else None,
    )
