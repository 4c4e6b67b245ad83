"""Staff web-console logins.

A console session is a login made through the same account service as the REST API
(``accounts.services.login``: password check, rate limit, audit) and points at the refresh-token
family that login issued, so revoking that family ends the session too, and logging out of the
console revokes the family. The browser holds only a random secret in an HttpOnly cookie; the
database keeps its SHA-256 digest, never the secret itself, plus the CSRF token of the session."""

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.accounts.tables import Account, RefreshToken


class ConsoleSession(Table, tablename="console_session"):
    id = UUID(primary_key=True)
    digest = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
    refresh = ForeignKey(references=RefreshToken, index=True, on_delete=OnDelete.cascade)
    csrf = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    client_addr = Varchar(length=64, default="")
