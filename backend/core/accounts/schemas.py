"""API contract for logins, tokens, accounts and role grants."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from backend.core.accounts.permissions import Role
from backend.lib.schema import Schema

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]


class LoginIn(Schema):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class RefreshIn(Schema):
    refresh_token: Annotated[str, msgspec.Meta(min_length=10, max_length=256)]


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    account_id: uuid.UUID


class GrantIn(Schema):
    role: Role
    area_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class GrantOut(Schema):
    id: uuid.UUID
    role: str
    area_code: str
    area_name: str


class StaffAccountIn(Schema):
    username: Username
    password: Password
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    phone: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    grants: list[GrantIn] = []


class AccountOut(Schema):
    id: uuid.UUID
    kind: str
    username: str | None
    full_name: str
    active: bool
    created_at: datetime
    grants: list[GrantOut]


class AccountList(Schema):
    items: list[AccountOut]


class CitizenRegisterIn(Schema):
    device_id: Annotated[str, msgspec.Meta(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9]{9,15}$")] | None = None
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=8)] = "vi"


class ActiveIn(Schema):
    active: bool
