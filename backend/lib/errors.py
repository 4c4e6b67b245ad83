"""Domain errors: services raise these; ``app.py`` maps them to HTTP in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule was broken. ``code`` is stable for clients; ``message_key`` is translated for people."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    default_key: ClassVar[str] = "error.bad_request"

    def __init__(
        self,
        code: str | None = None,
        *,
        message_key: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.code = code or self.default_code
        self.message_key = message_key or self.default_key
        self.params = params
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message_key} {params or ''}")


class BadRequest(DomainError):
    status_code = 400


class ValidationFailed(DomainError):
    """Input that parses but breaks a rule; ``details`` lists ``{"field", "reason"}`` items."""

    status_code = 422
    default_code = "validation_failed"
    default_key = "error.validation"

    def __init__(self, errors: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(details=errors, **kwargs)


class Unauthorized(DomainError):
    status_code = 401
    default_code = "unauthorized"
    default_key = "error.unauthorized"


class Forbidden(DomainError):
    status_code = 403
    default_code = "forbidden"
    default_key = "error.forbidden"


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"
    default_key = "error.not_found"

    def __init__(self, what: str = "resource", **kwargs: Any) -> None:
        super().__init__(what=what, **kwargs)


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_key = "error.conflict"


class RateLimited(DomainError):
    status_code = 429
    default_code = "rate_limited"
    default_key = "error.rate_limited"


class Unavailable(DomainError):
    """Temporarily unable to serve (database busy or unreachable, too much load): retry after
    ``Retry-After`` seconds; nothing was changed."""

    status_code = 503
    default_code = "unavailable"
    default_key = "error.unavailable"


def field_error(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": reason}])
