"""Accounts (staff, citizens, devices), their role grants on area subtrees, and refresh tokens."""

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.areas.tables import Area


class Account(Table, tablename="account"):
    id = UUID(primary_key=True)
    kind = Varchar(length=16)
    username = Varchar(length=64, unique=True, null=True, default=None)
    password_hash = Text(null=True, default=None)
    full_name = Varchar(length=255, default="")
    phone = Varchar(length=32, null=True, default=None)
    device_id = Varchar(length=128, unique=True, null=True, default=None)
    language = Varchar(length=8, default="vi")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class RoleGrant(Table, tablename="role_grant"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    role = Varchar(length=32)
    area = ForeignKey(references=Area, index=True)
    granted_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RefreshToken(Table, tablename="refresh_token"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    family = UUID(index=True)
    token_digest = Varchar(length=64, unique=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    client_addr = Varchar(length=64, default="")
