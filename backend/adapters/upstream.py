"""HTTP to the upstream source system (the central one, or another Kẻng acting as it), behind a
small interface: pull a page of published notices, post a signed statistics report.

The real client is httpx against ``KENG_UPSTREAM_URL``; the fake answers from what a test put in
it. Every failure to reach the upstream (refused, timed out, 5xx, 429) is an
:class:`UpstreamUnavailable` carrying ``Retry-After`` when given, so callers keep their cursor or
their report and try again later; a 4xx answer is an :class:`UpstreamRefused` (retrying the same
request would not help)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import msgspec

from backend.adapters.push import parse_retry_after

NOTICES_PATH = "/federation/v1/notices"
REPORTS_PATH = "/federation/v1/reports"


class UpstreamUnavailable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class UpstreamRefused(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ReportAnswer:
    status: int
    body: dict[str, Any]


class UpstreamClient(Protocol):
    async def pull_notices(self, province: str, since: str, limit: int) -> dict[str, Any]: ...

    async def post_report(self, envelope: bytes) -> ReportAnswer: ...

    async def aclose(self) -> None: ...


class HttpUpstreamClient:
    def __init__(self, base_url: str, *, timeout: float = 20.0, user_agent: str = "keng") -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(timeout=timeout, headers={"User-Agent": user_agent})

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, self.base_url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise UpstreamUnavailable(
                f"HTTP {response.status_code}", parse_retry_after(response.headers.get("retry-after"))
            )
        if response.status_code >= 400:
            raise UpstreamRefused(response.status_code, response.text)
        return response

    async def pull_notices(self, province: str, since: str, limit: int) -> dict[str, Any]:
        response = await self._request(
            "GET", NOTICES_PATH, params={"province": province, "since": since, "limit": limit}
        )
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise UpstreamUnavailable(f"not JSON: {exc}") from exc

    async def post_report(self, envelope: bytes) -> ReportAnswer:
        response = await self._request(
            "POST", REPORTS_PATH, content=envelope, headers={"Content-Type": "application/json"}
        )
        try:
            body = msgspec.json.decode(response.content) if response.content else {}
        except msgspec.DecodeError:
            body = {}
        return ReportAnswer(response.status_code, body if isinstance(body, dict) else {})

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class FakeUpstreamClient:
    """Serves pages a test put in ``pages`` (by ``since``) and records posted reports; ``down``
    makes every call fail as an unreachable upstream would."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: list[bytes] = field(default_factory=list)
    down: bool = False

    async def pull_notices(self, province: str, since: str, limit: int) -> dict[str, Any]:
        if self.down:
            raise UpstreamUnavailable("connection refused")
        return self.pages.get(since, {"items": [], "cursor": since, "more": False})

    async def post_report(self, envelope: bytes) -> ReportAnswer:
        if self.down:
            raise UpstreamUnavailable("connection refused")
        self.reports.append(envelope)
        return ReportAnswer(200, {"status": "accepted"})

    async def aclose(self) -> None:
        return None
