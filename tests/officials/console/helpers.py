"""Builders for the console tests: staff with passwords, logging in through the login form, and
reading the CSRF token a page carries."""

from __future__ import annotations

import re
import uuid
from typing import Any

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.lib.crypto import hash_password

PASSWORD = "mat-khau-thu-nghiem"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def staff_with_password(factory: Any, role: Role = Role.FEEDBACK_HANDLER, area: str = "38") -> Any:
    user = await factory.user((role, area), username=f"cb{uuid.uuid4().hex[:10]}")
    await Account.update(
        {Account.password_hash: hash_password(PASSWORD), Account.full_name: "Lê Văn Cường"}
    ).where(Account.id == user.id)
    row = await Account.select(Account.username).where(Account.id == user.id).first()
    return user, row["username"]


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def login(client: Any, username: str, password: str = PASSWORD, next_: str = "") -> Any:
    form = await client.get("/console/login")
    assert form.status_code == 200
    return await client.post(
        "/console/login",
        data={"csrf": csrf_of(form.text), "username": username, "password": password, "next": next_},
    )


async def page_csrf(client: Any, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)
