"""Demo data: Thanh Hóa with its real communes, a few villages, one account per role, some notices.

Idempotent: running it again adds nothing that is already there. Demo passwords are fixed and
printed, so never load demo data into a production database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from backend.broadcast.stations import services as stations
from backend.broadcast.stations.schemas import GroupIn, StationIn
from backend.core.accounts import admin as staff_admin
from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor, Role
from backend.core.accounts.schemas import GrantIn
from backend.core.accounts.tables import Account
from backend.core.areas import services as areas
from backend.core.areas.tables import Area
from backend.core.notices import flows
from backend.core.notices import services as notices
from backend.core.notices.schemas import ActionIn, NoticeIn, NoticeText
from backend.devices import services as devices
from backend.devices.schemas import Capabilities, DeviceIn
from backend.runtime import Runtime

PROVINCE = "38"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    area: str
    full_name: str


async def demo_communes(rt: Runtime, count: int = 3) -> list[dict[str, str]]:
    rows = (
        await Area.select(Area.code, Area.name)
        .where(Area.parent_code == PROVINCE)
        .order_by(Area.code)
        .limit(count)
    )
    return rows


async def load(rt: Runtime) -> list[DemoAccount]:
    await areas.import_vietnam(rt)
    communes = await demo_communes(rt)
    villages = [
        areas.AreaRecord(
            code=f"{c['code']}-T{i:02d}", name=f"Thôn {i}", level="village", parent_code=c["code"]
        )
        for c in communes
        for i in range(1, 6)
    ]
    async with rt.db.transaction():
        await areas.import_records(rt, villages)
    commune = communes[0]["code"]
    people = [
        DemoAccount("demo.admin", "demo-admin-2026", Role.ADMIN, PROVINCE, "Quản trị hệ thống"),
        DemoAccount("demo.bientap", "demo-editor-2026", Role.PROVINCE_EDITOR, PROVINCE, "Biên tập viên tỉnh"),
        DemoAccount(
            "demo.pheduyet", "demo-approver-2026", Role.PROVINCE_APPROVER, PROVINCE, "Lãnh đạo phê duyệt tỉnh"
        ),
        DemoAccount(
            "demo.phananh", "demo-handler-2026", Role.FEEDBACK_HANDLER, PROVINCE, "Cán bộ xử lý phản ánh"
        ),
        DemoAccount(
            "demo.canboxa", "demo-official-2026", Role.COMMUNE_OFFICIAL, commune, "Cán bộ văn hóa xã"
        ),
        DemoAccount("demo.lanhdaoxa", "demo-leader-2026", Role.COMMUNE_LEADER, commune, "Chủ tịch UBND xã"),
    ]
    created_any = False
    for p in people:
        created_any |= await staff_admin.ensure_staff(
            rt, p.username, p.password, p.full_name, [GrantIn(role=p.role, area_code=p.area)]
        )
    if not await Account.exists().where(Account.device_id == "demo-citizen-device"):
        await Account.insert(
            Account(
                id=uuid.uuid4(), kind="citizen", device_id="demo-citizen-device", created_at=rt.clock.now()
            )
        )
    if created_any:
        await _notices(rt, commune)
    return people


async def _notices(rt: Runtime, commune: str) -> None:
    editor = await _actor(rt, "demo.bientap")
    approver = await _actor(rt, "demo.pheduyet")
    official = await _actor(rt, "demo.canboxa")
    leader = await _actor(rt, "demo.lanhdaoxa")
    # The commune's radio station, with Thôn 1 as its own group, so published notices become
    # programmes and playlists for its loudspeakers and boards.
    station = await stations.create_station(rt, leader, StationIn(area_code=commune))
    group = await stations.create_group(
        rt, leader, station.id, GroupIn(name="Cụm loa Thôn 1", area_codes=[f"{commune}-T01"])
    )
    # Its devices, registered without credentials: `keng devices credentials ID` (or claim-code) gives them.
    await devices.register(
        rt,
        leader,
        DeviceIn(kind="cluster", area_code=f"{commune}-T01", group_id=group.id, name="Cụm loa Thôn 1"),
    )
    await devices.register(
        rt,
        leader,
        DeviceIn(
            kind="eboard",
            area_code=commune,
            name="Bảng tin UBND xã",
            capabilities=Capabilities(screen_width=1920, screen_height=1080),
        ),
    )
    until = rt.clock.now() + timedelta(days=30)
    vi = {
        "vi": NoticeText(
            title="Lịch tiêm chủng mở rộng tháng này",
            body="Trạm y tế xã tổ chức tiêm chủng cho trẻ dưới 5 tuổi vào sáng thứ Bảy. Phụ huynh mang theo sổ tiêm.",
            summary="Tiêm chủng cho trẻ dưới 5 tuổi sáng thứ Bảy",
        )
    }
    published = await notices.create(
        rt,
        editor,
        NoticeIn(category="health", priority="normal", target_areas=[PROVINCE], texts=vi, valid_until=until),
    )
    await flows.submit(rt, editor, published.id, ActionIn())
    await flows.approve(rt, approver, published.id, ActionIn())
    await flows.publish(rt, approver, published.id, ActionIn())
    storm = {
        "vi": NoticeText(
            title="Cảnh báo mưa lũ",
            body="Mưa lớn kéo dài, nguy cơ lũ quét. Người dân khu vực ven "
            "sông di chuyển đến nơi an toàn theo hướng dẫn của xã.",
            summary="Nguy cơ lũ quét",
        )
    }
    emergency = await notices.create(
        rt,
        leader,
        NoticeIn(
            category="disaster",
            priority="emergency",
            target_areas=[commune],
            texts=storm,
            valid_until=rt.clock.now() + timedelta(days=2),
        ),
    )
    await flows.emergency_publish(rt, leader, emergency.id, ActionIn(reason="Lũ quét"))
    draft = {
        "vi": NoticeText(
            title="Họp dân thôn về làm đường giao thông",
            body="Mời đại diện các hộ dự họp tại nhà văn hóa thôn lúc 19h thứ Năm.",
        )
    }
    await notices.create(
        rt,
        official,
        NoticeIn(category="local_admin", priority="normal", target_areas=[f"{commune}-T01"], texts=draft),
    )
    submitted = await notices.create(
        rt,
        official,
        NoticeIn(
            category="social_welfare",
            priority="priority",
            target_areas=[commune],
            texts={
                "vi": NoticeText(
                    title="Chi trả trợ cấp xã hội tháng này",
                    body="Chi trả tại bưu điện xã từ ngày 5 đến ngày 10; mang theo CCCD.",
                )
            },
        ),
    )
    await flows.submit(rt, official, submitted.id, ActionIn())


async def _actor(rt: Runtime, username: str) -> Actor:
    row = await Account.select(Account.id).where(Account.username == username).first()
    assert row is not None
    return await accounts.actor_for_account(
        rt, row["id"], accounts.ClientInfo(addr="demo", request_id="demo")
    )
