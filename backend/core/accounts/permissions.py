"""Roles, what each may do, and the acting principal.

A permission is held through a role on an area subtree: a grant of ``commune_leader`` on commune
16000 lets its holder approve notices whose every target lies under ``/VN/38/16000/``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from backend.lib.errors import Forbidden


class Role(StrEnum):
    CITIZEN = "citizen"
    COMMUNE_OFFICIAL = "commune_official"
    COMMUNE_LEADER = "commune_leader"
    PROVINCE_EDITOR = "province_editor"
    PROVINCE_APPROVER = "province_approver"
    FEEDBACK_HANDLER = "feedback_handler"
    DEVICE = "device"
    ADMIN = "admin"


class Permission(StrEnum):
    NOTICE_READ = "notice.read"
    NOTICE_CREATE = "notice.create"
    NOTICE_EDIT = "notice.edit"
    NOTICE_SUBMIT = "notice.submit"
    NOTICE_APPROVE = "notice.approve"
    NOTICE_RETURN = "notice.return"
    NOTICE_PUBLISH = "notice.publish"
    NOTICE_WITHDRAW = "notice.withdraw"
    NOTICE_EMERGENCY_PUBLISH = "notice.emergency_publish"
    AUDIT_READ = "audit.read"
    ACCOUNT_MANAGE = "account.manage"
    CATEGORY_MANAGE = "category.manage"
    AREA_MANAGE = "area.manage"
    FEEDBACK_HANDLE = "feedback.handle"
    FEEDBACK_MODERATE = "feedback.moderate"
    FEEDBACK_IDENTITY = "feedback.identity"
    FEEDBACK_CONFIGURE = "feedback.configure"
    STATION_MANAGE = "station.manage"
    SCHEDULE_EDIT = "schedule.edit"
    BROADCAST_LOG = "broadcast.log"
    TRAINING_STUDY = "training.study"
    TRAINING_MANAGE = "training.manage"
    TRAINING_REPORT = "training.report"
    DEVICE_READ = "device.read"
    DEVICE_COMMAND = "device.command"
    DEVICE_MANAGE = "device.manage"


_AUTHOR = {
    Permission.NOTICE_READ,
    Permission.NOTICE_CREATE,
    Permission.NOTICE_EDIT,
    Permission.NOTICE_SUBMIT,
}
_APPROVER = {
    *_AUTHOR,
    Permission.NOTICE_APPROVE,
    Permission.NOTICE_RETURN,
    Permission.NOTICE_PUBLISH,
    Permission.NOTICE_WITHDRAW,
    Permission.NOTICE_EMERGENCY_PUBLISH,
}
_BROADCASTER = {Permission.STATION_MANAGE, Permission.SCHEDULE_EDIT, Permission.BROADCAST_LOG}
# Commune officials and leaders study the training library (and count in its coverage report);
# province staff publish it; leaders and province staff read the coverage of their areas.
_TRAINEE = {Permission.TRAINING_STUDY}
_TRAINER = {Permission.TRAINING_MANAGE, Permission.TRAINING_REPORT}
# Commune staff watch their commune's devices and command them (play, stop, volume); registering,
# provisioning and revoking devices is for the commune leader, the province and admins.
_DEVICE_WATCHER = {Permission.DEVICE_READ, Permission.DEVICE_COMMAND}
_DEVICE_KEEPER = {*_DEVICE_WATCHER, Permission.DEVICE_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CITIZEN: frozenset(),
    Role.DEVICE: frozenset(),
    # Commune staff handle the feedback routed to their commune; only the leader rejects as
    # abusive, reopens, and sees who reported.
    # Commune staff keep the station's week schedule, programme and broadcast log; its rules and
    # groups are set by the commune leader or the province.
    Role.COMMUNE_OFFICIAL: frozenset(
        {
            *_AUTHOR,
            *_TRAINEE,
            *_DEVICE_WATCHER,
            Permission.FEEDBACK_HANDLE,
            Permission.SCHEDULE_EDIT,
            Permission.BROADCAST_LOG,
        }
    ),
    Role.PROVINCE_EDITOR: frozenset({*_AUTHOR, *_TRAINER}),
    Role.COMMUNE_LEADER: frozenset(
        {
            *_APPROVER,
            *_BROADCASTER,
            *_TRAINEE,
            *_DEVICE_KEEPER,
            Permission.FEEDBACK_HANDLE,
            Permission.FEEDBACK_MODERATE,
            Permission.FEEDBACK_IDENTITY,
            Permission.TRAINING_REPORT,
        }
    ),
    Role.PROVINCE_APPROVER: frozenset({*_APPROVER, *_BROADCASTER, *_DEVICE_KEEPER, *_TRAINER}),
    Role.FEEDBACK_HANDLER: frozenset(
        {
            Permission.NOTICE_READ,
            Permission.FEEDBACK_HANDLE,
            Permission.FEEDBACK_MODERATE,
            Permission.FEEDBACK_IDENTITY,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.NOTICE_READ,
            Permission.AUDIT_READ,
            Permission.ACCOUNT_MANAGE,
            Permission.CATEGORY_MANAGE,
            Permission.AREA_MANAGE,
            Permission.FEEDBACK_CONFIGURE,
            Permission.STATION_MANAGE,
            *_DEVICE_KEEPER,
        }
    ),
}

STAFF_ROLES = frozenset(
    {
        Role.COMMUNE_OFFICIAL,
        Role.COMMUNE_LEADER,
        Role.PROVINCE_EDITOR,
        Role.PROVINCE_APPROVER,
        Role.FEEDBACK_HANDLER,
        Role.ADMIN,
    }
)


def within(path: str, ancestor_path: str) -> bool:
    """Is the area at ``path`` inside the subtree rooted at ``ancestor_path``?"""
    return path.startswith(ancestor_path)


@dataclass(frozen=True)
class Grant:
    role: Role
    area_code: str
    area_path: str


@dataclass(frozen=True)
class Actor:
    """Who is acting, through which grants, from where. Built per request from the token."""

    account_id: uuid.UUID | None
    kind: str
    grants: tuple[Grant, ...] = ()
    client_addr: str = ""
    request_id: str = ""
    username: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Grants per permission, worked out once: a sync page checks hundreds of rows against them.
    _holders: dict[Permission, tuple[Grant, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def system(cls, reason: str = "system") -> Actor:
        return cls(account_id=None, kind="system", extra={"reason": reason})

    def grants_with(self, permission: Permission) -> tuple[Grant, ...]:
        holders = self._holders.get(permission)
        if holders is None:
            holders = tuple(g for g in self.grants if permission in ROLE_PERMISSIONS.get(g.role, frozenset()))
            self._holders[permission] = holders
        return holders

    def grant_for(self, permission: Permission, path: str) -> Grant | None:
        for grant in self.grants_with(permission):
            if within(path, grant.area_path):
                return grant
        return None

    def can(self, permission: Permission, paths: Iterable[str]) -> bool:
        return all(self.grant_for(permission, p) is not None for p in paths)

    def require(self, permission: Permission, paths: Iterable[str] = ()) -> Grant | None:
        """Raise unless the actor holds ``permission`` over every area path given.

        With no paths, holding the permission anywhere is enough. Returns the grant used, which
        the audit log records as the actor's role and area."""
        holders = self.grants_with(permission)
        if not holders:
            raise Forbidden(details={"permission": permission.value})
        paths = list(paths)
        if not paths:
            return holders[0]
        used: Grant | None = None
        for path in paths:
            grant = self.grant_for(permission, path)
            if grant is None:
                raise Forbidden(
                    "out_of_area", message_key="error.out_of_area", details={"permission": permission.value}
                )
            used = used or grant
        return used

    def scope_paths(self, permission: Permission) -> list[str]:
        return [g.area_path for g in self.grants_with(permission)]
