"""Test data builders. Each test builds what it needs; nothing is shared between tests.

The standard tree: VN → province 38 (communes 38001, 38002, each with villages) and province 40
(commune 40001). Accounts are inserted directly and given tokens without the (slow, scrypt)
login, except where a test is about logging in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account, RoleGrant
from backend.core.areas import services as areas
from backend.lib.tokens import issue_access_token
from backend.runtime import Runtime

TREE = [
    ("VN", "Việt Nam", None, "nation"),
    ("38", "Thanh Hóa", "VN", "province"),
    ("38001", "Xã Hoằng Hóa", "38", "commune"),
    ("38001-01", "Thôn Đông", "38001", "village"),
    ("38001-02", "Thôn Đoài", "38001", "village"),
    ("38002", "Phường Hạc Thành", "38", "commune"),
    ("38002-01", "Tổ dân phố 1", "38002", "village"),
    ("40", "Nghệ An", "VN", "province"),
    ("40001", "Xã Diễn Châu", "40", "commune"),
]


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def tree(self) -> None:
        records = [areas.AreaRecord(code=c, name=n, parent_code=p, level=lvl) for c, n, p, lvl in TREE]
        async with self.rt.db.transaction():
            await areas.import_records(self.rt, records)

    async def user(
        self, *grants: tuple[Role | str, str], kind: str = "staff", username: str | None = None
    ) -> User:
        account_id = uuid.uuid4()
        await Account.insert(
            Account(
                id=account_id,
                kind=kind,
                username=username or f"u{account_id.hex[:12]}",
                created_at=self.rt.clock.now(),
            )
        )
        for role, area in grants:
            await RoleGrant.insert(RoleGrant(id=uuid.uuid4(), account=account_id, role=str(role), area=area))
        return User(id=account_id, token=self.token(account_id, kind))

    def token(self, account_id: uuid.UUID, kind: str = "staff") -> str:
        return issue_access_token(
            self.rt.jwt_keys, subject=str(account_id), kind=kind, now=self.rt.clock.now(), minutes=15
        )


def notice_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "health",
        "priority": "normal",
        "target_areas": ["38001"],
        "texts": {
            "vi": {"title": "Tiêm chủng", "body": "Tiêm chủng cho trẻ em sáng thứ Bảy tại trạm y tế xã."}
        },
    }
    body.update(overrides)
    return body


def later(rt: Runtime, **delta: float) -> str:
    return (rt.clock.now() + timedelta(**delta)).isoformat()
