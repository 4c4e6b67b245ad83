"""Console logins: open (through the same login service as the REST API), load and check on every
request, end.

A session ends at the first of: logout, ``KENG_CONSOLE_SESSION_HOURS`` after login,
``KENG_CONSOLE_IDLE_MINUTES`` without a request, revocation of the refresh-token family its login
issued, or the account being deactivated. Every form POST carries the session's CSRF token, compared
in constant time; the login form, which has no session yet, uses a double-submit cookie."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.core.accounts import services as accounts
from backend.core.accounts.permissions import Actor
from backend.core.accounts.services import ClientInfo
from backend.core.accounts.tables import RefreshToken
from backend.core.audit import services as audit
from backend.lib.crypto import token_digest
from backend.lib.errors import DomainError, Forbidden, Unauthorized
from backend.officials.console.tables import ConsoleSession as S
from backend.runtime import Runtime

# How often the idle clock is written: at most once a minute per session, not on every request.
SEEN_EVERY = timedelta(minutes=1)


class LoginRequired(Unauthorized):
    """No valid console session: the browser is sent to the login page (``expired`` says why)."""

    default_code = "login_required"

    def __init__(self, expired: bool = False) -> None:
        super().__init__(message_key="error.session_expired" if expired else "error.unauthorized")
        self.expired = expired


class CsrfFailed(Forbidden):
    default_code = "csrf_failed"
    default_key = "error.csrf"


@dataclass(frozen=True)
class Session:
    id: uuid.UUID
    account_id: uuid.UUID
    csrf: str
    expires_at: datetime


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def check_csrf(expected: str, given: str | None) -> None:
    if not same(expected, given):
        raise CsrfFailed()


async def open_session(rt: Runtime, username: str, password: str, client: ClientInfo) -> tuple[str, Session]:
    """Log in (audited by the account service) and start a console session; returns the cookie
    secret, which is never stored."""
    pair = await accounts.login(rt, username, password, client)
    secret = new_secret()
    now = rt.clock.now()
    session = Session(
        id=uuid.uuid4(),
        account_id=pair.account_id,
        csrf=new_secret(),
        expires_at=now + timedelta(hours=rt.settings.console_session_hours),
    )
    refresh = (
        await RefreshToken.select(RefreshToken.id)
        .where(RefreshToken.token_digest == token_digest(pair.refresh_token))
        .first()
    )
    assert refresh is not None  # written by the login that just returned
    await S.insert(
        S(
            id=session.id,
            digest=token_digest(secret),
            account=session.account_id,
            refresh=refresh["id"],
            csrf=session.csrf,
            created_at=now,
            seen_at=now,
            expires_at=session.expires_at,
            client_addr=client.addr[:64],
        )
    )
    return secret, session


async def load(rt: Runtime, secret: str | None, client: ClientInfo) -> tuple[Session, Actor]:
    """The session behind a cookie and its account's actor with current grants, or LoginRequired."""
    if not secret:
        raise LoginRequired()
    row = (
        await S.select(
            S.id,
            S.account,
            S.csrf,
            S.seen_at,
            S.expires_at,
            S.ended_at,
            S.refresh.revoked_at.as_alias("revoked_at"),
        )
        .where(S.digest == token_digest(secret))
        .first()
    )
    if row is None:
        raise LoginRequired()
    now = rt.clock.now()
    idle = timedelta(minutes=rt.settings.console_idle_minutes)
    if (
        row["ended_at"] is not None
        or row["revoked_at"] is not None
        or row["expires_at"] <= now
        or row["seen_at"] + idle <= now
    ):
        raise LoginRequired(expired=True)
    try:
        actor = await accounts.actor_for_account(rt, row["account"], client)
    except DomainError as exc:  # deactivated since login
        raise LoginRequired(expired=True) from exc
    if now - row["seen_at"] >= SEEN_EVERY:
        await S.update({S.seen_at: now}).where(S.id == row["id"])
    return Session(
        id=row["id"], account_id=row["account"], csrf=row["csrf"], expires_at=row["expires_at"]
    ), actor


async def close(rt: Runtime, session: Session, actor: Actor) -> None:
    """End the session and revoke the tokens of its login."""
    async with rt.db.transaction():
        row = await S.select(S.refresh.family.as_alias("family")).where(S.id == session.id).first()
        await S.update({S.ended_at: rt.clock.now()}).where((S.id == session.id) & S.ended_at.is_null())
        if row is not None:
            await accounts.revoke_family(rt, row["family"])
        await audit.record(rt, actor, "auth.logout", target_type="account", target_id=str(session.account_id))
