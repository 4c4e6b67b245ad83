"""Categories: seeded with the essential-information fields on first start, then the admins' list."""

from __future__ import annotations

from typing import Any

from backend.core.accounts.permissions import Actor, Permission
from backend.core.audit import services as audit
from backend.core.categories.schemas import CategoryIn, CategoryList, CategoryOut, CategoryPatch
from backend.core.categories.tables import Category
from backend.lib.errors import Conflict, NotFound, ValidationFailed
from backend.lib.i18n import nfc
from backend.runtime import Runtime

DEFAULT_CATEGORIES: list[tuple[str, str, str]] = [
    ("policy_law", "Chủ trương, chính sách, pháp luật", "Policy and law"),
    ("local_admin", "Hoạt động của chính quyền địa phương", "Local administration"),
    ("disaster", "Thiên tai, thảm họa, tình huống khẩn cấp", "Disasters and emergencies"),
    ("health", "Y tế, dịch bệnh", "Health and epidemics"),
    ("security", "An ninh, trật tự, an toàn xã hội", "Security and public order"),
    ("agriculture", "Nông nghiệp, thời tiết, mùa vụ", "Agriculture and weather"),
    ("social_welfare", "An sinh xã hội, chi trả trợ cấp", "Social welfare payments"),
    ("military", "Nghĩa vụ quân sự, quốc phòng", "Military service and defence"),
    ("elections", "Bầu cử", "Elections"),
    ("land_construction", "Đất đai, xây dựng, quy hoạch", "Land, construction and planning"),
    ("education", "Giáo dục, đào tạo", "Education"),
    ("environment", "Tài nguyên, môi trường", "Environment"),
    ("culture_society", "Văn hóa, xã hội, thể thao", "Culture, society and sport"),
    (
        "digital_transformation",
        "Chuyển đổi số, dịch vụ công trực tuyến",
        "Digital transformation and e-services",
    ),
]


def _out(row: dict[str, Any]) -> CategoryOut:
    return CategoryOut(
        code=row["code"],
        name_vi=row["name_vi"],
        name_en=row["name_en"],
        description=row["description"],
        active=row["active"],
        position=row["position"],
    )


async def seed_defaults(rt: Runtime) -> int:
    """Only into an empty table, so categories an admin removed or renamed stay as they are."""
    if await Category.count() > 0:
        return 0
    await Category.insert(
        *[
            Category(code=code, name_vi=vi, name_en=en, position=i * 10)
            for i, (code, vi, en) in enumerate(DEFAULT_CATEGORIES)
        ]
    )
    return len(DEFAULT_CATEGORIES)


async def list_categories(rt: Runtime, include_inactive: bool = False) -> CategoryList:
    query = Category.select()
    if not include_inactive:
        query = query.where(Category.active == True)  # noqa: E712 (Piccolo builds SQL from this)
    rows = await query.order_by(Category.position).order_by(Category.code)
    return CategoryList(items=[_out(r) for r in rows])


async def require_active(rt: Runtime, code: str, field: str = "category") -> None:
    row = await Category.select(Category.active).where(Category.code == code).first()
    if row is None or not row["active"]:
        raise ValidationFailed([{"field": field, "reason": f"unknown or inactive category {code}"}])


async def create(rt: Runtime, actor: Actor, data: CategoryIn) -> CategoryOut:
    used = actor.require(Permission.CATEGORY_MANAGE)
    async with rt.db.transaction():
        if await Category.exists().where(Category.code == data.code):
            raise Conflict("category_exists", message_key="error.duplicate", what="category")
        await Category.insert(
            Category(
                code=data.code,
                name_vi=nfc(data.name_vi),
                name_en=data.name_en,
                description=nfc(data.description),
                position=data.position,
            )
        )
        await audit.record(
            rt, actor, "category.create", target_type="category", target_id=data.code, grant=used
        )
    return _out(await Category.select().where(Category.code == data.code).first())


async def update(rt: Runtime, actor: Actor, code: str, data: CategoryPatch) -> CategoryOut:
    used = actor.require(Permission.CATEGORY_MANAGE)
    changes = {
        getattr(Category, k): (nfc(v) if isinstance(v, str) else v)
        for k in ("name_vi", "name_en", "description", "active", "position")
        if (v := getattr(data, k)) is not None
    }
    async with rt.db.transaction():
        if not await Category.exists().where(Category.code == code):
            raise NotFound("category")
        if changes:
            await Category.update(changes).where(Category.code == code)
        await audit.record(
            rt,
            actor,
            "category.update",
            target_type="category",
            target_id=code,
            grant=used,
            details={c._meta.name: v for c, v in changes.items()},
        )
    return _out(await Category.select().where(Category.code == code).first())
