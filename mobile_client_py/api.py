"""A typed client for the Kẻng REST API, shared by tests, benchmarks and the simulators.

It keeps the token pair, refreshes once on a 401, and turns error envelopes into
:class:`ApiError` so callers see the server's code and Vietnamese message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    details: Any = None

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class KengClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.account_id: uuid.UUID | None = None

    async def login(self, username: str, password: str) -> None:
        self._store(
            await self._call(
                "POST", "/api/v1/auth/login", json={"username": username, "password": password}, auth=False
            )
        )

    async def register_citizen(self, device_id: str, phone: str | None = None) -> None:
        body: dict[str, Any] = {"device_id": device_id}
        if phone:
            body["phone"] = phone
        self._store(await self._call("POST", "/api/v1/citizens/register", json=body, auth=False))

    async def refresh(self) -> None:
        if not self.refresh_token:
            raise ApiError(401, "no_refresh_token", "Chưa đăng nhập.")
        self._store(
            await self._call(
                "POST", "/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}, auth=False
            )
        )

    async def me(self) -> dict[str, Any]:
        return await self._call("GET", "/api/v1/auth/me")

    async def create_notice(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/v1/notices", json=body)

    async def notice(self, notice_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/v1/notices/{notice_id}")

    async def notices(self, **filters: Any) -> list[dict[str, Any]]:
        """Every page of the listing, following cursors."""
        items: list[dict[str, Any]] = []
        params = {k: v for k, v in filters.items() if v is not None}
        while True:
            page = await self._call("GET", "/api/v1/notices", params=params)
            items.extend(page["items"])
            if not page["next_cursor"]:
                return items
            params["cursor"] = page["next_cursor"]

    async def step(
        self,
        notice_id: str,
        action: str,
        reason: str = "",
        row_version: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """submit, approve, return, publish, emergency-publish (``repeat``, ``interval_s``) or withdraw."""
        body: dict[str, Any] = {"reason": reason, **fields}
        if row_version is not None:
            body["row_version"] = row_version
        return await self._call("POST", f"/api/v1/notices/{notice_id}/{action}", json=body)

    def _store(self, pair: dict[str, Any]) -> None:
        self.access_token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]
        self.account_id = uuid.UUID(pair["account_id"])

    async def _call(
        self, method: str, path: str, *, auth: bool = True, retried: bool = False, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.access_token}"} if auth and self.access_token else {}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and auth and self.refresh_token and not retried:
            await self.refresh()
            return await self._call(method, path, auth=auth, retried=True, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
            raise ApiError(response.status_code, error["code"], error["message"], error.get("details"))
        return response.json() if response.content else None
