"""A small keep-alive HTTP/1.1 client for push fan-out: one POST, one answer, many times over.

A fan-out is tens of thousands of tiny POSTs to a handful of push-service origins. General clients
spend more CPU per request than the RFC 8291 encryption of the message itself; this one keeps a
bounded pool of persistent connections per origin (TLS for https), writes each request in one
``write`` and parses answers with ``httptools``. It does POST only, no redirects, no pipelining."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools


class HttpError(Exception):
    """The request could not be completed (connection refused or lost, timeout, bad answer)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


_ORIGINS: dict[tuple[str, str], Origin] = {}


def split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target). Origins are parsed once and cached: a fan-out hits a few of them."""
    scheme, sep, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    origin = _ORIGINS.get((scheme, netloc))
    if origin is None:
        parts = urlsplit(f"{scheme}{sep}{netloc}")
        if not sep or parts.scheme not in {"http", "https"} or not parts.hostname:
            raise HttpError(f"not an http(s) URL: {url[:80]}")
        origin = Origin(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        if len(_ORIGINS) < 4096:
            _ORIGINS[(scheme, netloc)] = origin
    return origin, "/" + path.partition("#")[0]


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.closed = False
        self.keep_alive = True
        self.used = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc or 'closed by peer'}"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"bad HTTP answer: {exc}"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        response = HttpResponse(self.parser.get_status_code(), self.headers, b"".join(self.body))
        self.keep_alive = self.parser.should_keep_alive()
        self.headers, self.body = {}, []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(response)

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def request(self, data: bytes) -> HttpResponse:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.used = True
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            self.waiter = None


class _OriginPool:
    def __init__(self, origin: Origin, limit: int, ssl_context: ssl.SSLContext | None) -> None:
        self.origin = origin
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(limit)
        self.ssl_context = ssl_context
        self.host_header = origin.url.split("://", 1)[1].encode("idna")

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        ctx = None
        if self.origin.scheme == "https":
            ctx = self.ssl_context or ssl.create_default_context()
        try:
            _, conn = await loop.create_connection(
                _Connection,
                self.origin.host,
                self.origin.port,
                ssl=ctx,
                server_hostname=self.origin.host if ctx else None,
            )
        except OSError as exc:
            raise HttpError(f"cannot connect to {self.origin.url}: {exc}") from exc
        return conn

    def take_idle(self) -> _Connection | None:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        return None

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


class Http1Client:
    """POSTs over persistent connections, at most ``per_origin`` open to each origin."""

    def __init__(
        self, *, per_origin: int = 64, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.per_origin = per_origin
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._pools: dict[Origin, _OriginPool] = {}

    def _pool(self, origin: Origin) -> _OriginPool:
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _OriginPool(origin, self.per_origin, self.ssl_context)
        return pool

    async def post(self, url: str, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        origin, target = split_url(url)
        pool = self._pool(origin)
        head = [b"POST ", target.encode("latin-1"), b" HTTP/1.1\r\nHost: ", pool.host_header, b"\r\n"]
        for name, value in headers:
            head += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        head += [b"Content-Length: ", str(len(body)).encode(), b"\r\n\r\n", body]
        data = b"".join(head)
        async with pool.slots:
            conn = pool.take_idle()
            try:
                async with asyncio.timeout(self.timeout):
                    if conn is not None:
                        try:
                            response = await conn.request(data)
                        except HttpError:
                            # A kept-alive connection the server closed meanwhile: one fresh try.
                            conn.close()
                            conn = await pool.connect()
                            response = await conn.request(data)
                    else:
                        conn = await pool.connect()
                        response = await conn.request(data)
            except TimeoutError as exc:
                if conn is not None:
                    conn.close()
                raise HttpError(f"no answer from {origin.url} within {self.timeout:g}s") from exc
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
            if conn.keep_alive and not conn.closed:
                pool.idle.append(conn)
            else:
                conn.close()
            return response

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
