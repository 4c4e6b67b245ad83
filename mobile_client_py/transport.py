"""Transports for the offline client: an in-process ASGI transport that can cut a request at any
byte, and a fault-injecting wrapper for any httpx transport.

:class:`FaultyTransport` plays the network of a mountain commune: it drops a request before the
server sees it, drops the response after the server committed, delivers a request twice (one after
the other, or both at once), holds a request back and delivers it after the next one (reorder),
truncates a response, cuts a request or a response at byte *k*, flips a byte of the request body
(``corrupt``), or delays it. Faults come from a
plan (a list consumed one per request, or a function of the request number)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

Fault = str | tuple[str, float]
FAULTS = (
    "ok",
    "drop_request",
    "drop_response",
    "duplicate",
    "duplicate_concurrent",
    "reorder",
    "truncate",
    "cut_request",
    "cut_response",
    "delay",
    "corrupt",
)


class AsgiTransport(httpx.AsyncBaseTransport):
    """Calls an ASGI app in this event loop. ``cut_request_at``: the app receives only that many
    body bytes and then a disconnect, as when a phone's connection dies mid-upload."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(
        self, request: httpx.Request, cut_request_at: int | None = None
    ) -> httpx.Response:
        body = await request.aread()
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "root_path": "",
            "headers": headers,
            "client": self.client,
            "server": (request.url.host, request.url.port or 80),
            "state": {},
        }
        sent = body if cut_request_at is None else body[: int(cut_request_at)]
        delivered = False
        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": sent, "more_body": cut_request_at is not None}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        if cut_request_at is not None:
            # The connection is gone after the cut: whatever the app does, the phone hears nothing.
            done.set()
            with contextlib.suppress(Exception):  # the app may complain of the disconnect; nobody hears
                await self.app(scope, receive, send)
            raise httpx.WriteError("connection cut while sending the request", request=request)
        await self.app(scope, receive, send)
        done.set()
        return httpx.Response(status, headers=response_headers, content=b"".join(chunks), request=request)


@dataclass
class FaultyTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and injects one fault per request according to ``plan``."""

    inner: httpx.AsyncBaseTransport
    plan: Sequence[Fault] | Callable[[int, httpx.Request], Fault] = ()
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests: int = 0
    log: list[tuple[int, str, str]] = field(default_factory=list)
    _held: list[httpx.Request] = field(default_factory=list)
    _plan_left: list[Fault] | None = None

    def _next_fault(self, request: httpx.Request) -> Fault:
        if callable(self.plan):
            return self.plan(self.requests, request)
        if self._plan_left is None:
            self._plan_left = list(self.plan)
        return self._plan_left.pop(0) if self._plan_left else "ok"

    async def _deliver(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await self.inner.handle_async_request(request, **kwargs)
        await response.aread()
        return response

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for request in held:
            with contextlib.suppress(httpx.HTTPError):
                await self._deliver(request)  # a late duplicate: its answer goes nowhere

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        fault = self._next_fault(request)
        kind, arg = (fault, 0.0) if isinstance(fault, str) else fault
        self.log.append((self.requests, request.url.path, kind))
        await request.aread()
        try:
            if kind == "drop_request":
                raise httpx.ConnectError("request lost", request=request)
            if kind == "reorder":
                self._held.append(request)
                raise httpx.ReadTimeout("no answer (request delayed in the network)", request=request)
            if kind == "delay":
                await self.sleep(arg)
            if kind == "corrupt" and request.content:
                body = bytearray(request.content)
                body[int(arg) % len(body)] ^= 0xFF
                request = httpx.Request(
                    request.method, request.url, headers=request.headers, content=bytes(body)
                )
            if kind == "cut_request":
                if isinstance(self.inner, AsgiTransport):
                    await self.inner.handle_async_request(request, cut_request_at=int(arg))
                raise httpx.WriteError("connection cut while sending", request=request)
            if kind == "duplicate_concurrent":
                first, second = await asyncio.gather(
                    self._deliver(request), self._deliver(request), return_exceptions=True
                )
                for answer in (first, second):
                    if isinstance(answer, httpx.Response) and answer.status_code < 400:
                        return answer
                if isinstance(first, BaseException):
                    raise first
                return first
            response = await self._deliver(request)
            if kind == "duplicate":
                response = await self._deliver(request)
            if kind == "drop_response":
                raise httpx.ReadError("connection lost before the answer", request=request)
            if kind == "truncate":
                raw = response.content
                return httpx.Response(
                    response.status_code,
                    headers=[(k, v) for k, v in response.headers.raw if k.lower() != b"content-encoding"],
                    content=raw[: len(raw) // 2],
                    request=request,
                )
            if kind == "cut_response":
                raise httpx.ReadError(f"connection cut after {int(arg)} bytes of the answer", request=request)
            return response
        finally:
            if kind != "reorder" and self._held:
                await self._release_held()
