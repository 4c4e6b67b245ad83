"""A small keep-alive HTTP/1.1 client for push fan-out: one POST, one answer, many times over.

A fan-out is tens of thousands of tiny POSTs to a handful of push-service origins. General clients
spend more CPU per request than the RFC 8291 encryption of the message itself; this one keeps a
bounded pool of persistent connections per origin (TLS for https), writes each request in one
``write`` and parses answers with ``httptools``. It does POST only, no redirects, no pipelining.

``post`` is one awaited request; ``post_all`` drives many from protocol callbacks (no task, future
or timer per request: one watchdog checks deadlines), which is what a fan-out uses. It refills
free slots in groups (a quarter of the limit), each group's writes back to back."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urlsplit

import httptools

READ_BUFFER = 16384  # per connection; a push service's answer is a few hundred bytes


class HttpError(Exception):
    """The request could not be completed (connection refused or lost, timeout, bad answer)."""


class HttpResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @cached_property
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


class _Connection(asyncio.BufferedProtocol):
    """One kept-alive connection. Answers are read into the connection's own buffer: a plain
    protocol gets a fresh bytes object of the loop's maximum read size (256 KiB) for every read,
    and allocating and shrinking those cost more than parsing the answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = memoryview(bytearray(READ_BUFFER))
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.closed = False
        self.keep_alive = True
        self.used = False
        self.on_answer: Callable[[_Connection, HttpResponse | HttpError], None] | None = None
        self.ticket: tuple[int, _OriginPool, bytes, bool] | None = None  # post_all's request on it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc or 'closed by peer'}"))
        self._answer(HttpError(f"connection lost: {exc or 'closed by peer'}"))

    def _answer(self, outcome: HttpResponse | HttpError) -> None:
        callback = self.on_answer
        if callback is not None:
            self.on_answer = None
            callback(self, outcome)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        try:
            self.parser.feed_data(self.buffer[:nbytes])
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
        self._answer(response)

    def _fail(self, exc: HttpError) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self._answer(exc)
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

    async def post_all(
        self,
        count: int,
        request: Callable[[int], tuple[Origin, str, bytes, bytes]],
        answer: Callable[[int, HttpResponse | Exception], None],
        limit: int,
    ) -> int:
        """Send requests ``0 … count-1`` in order, at most ``limit`` (and ``per_origin``) at a time.

        ``request(i)`` gives (origin, request target, header lines as ``b"Name: value\\r\\n"…``,
        body), the first two as :func:`split_url` gives them; it is called
        only when the request can go out, and an exception it raises is that request's answer.
        ``answer(i, response or exception)`` is called once per request. Returns how many were
        started. Cancelled: starts nothing more, drops the connections of requests in flight (their
        answers never come) and re-raises."""
        return await _Batch(self, count, request, answer, min(limit, self.per_origin)).run()

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)


class _Batch:
    """The state of one ``post_all``: a cursor over the requests and those in flight."""

    def __init__(
        self,
        client: Http1Client,
        count: int,
        request: Callable[[int], tuple[Origin, str, bytes, bytes]],
        answer: Callable[[int, HttpResponse | Exception], None],
        limit: int,
    ) -> None:
        self.client = client
        self.count = count
        self.request = request
        self.answer = answer
        self.limit = max(1, limit)
        self.next = 0
        self.in_flight: dict[int, tuple[_Connection | None, float]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.watchdog: asyncio.TimerHandle | None = None
        self.group = max(1, self.limit // 4)  # free slots worth refilling at once
        self.scheduled = False

    async def run(self) -> int:
        try:
            self.pump()
            if self.in_flight:
                self.watch()
                await self.done
        except BaseException:
            self.next = self.count  # start nothing more
            for conn, _ in list(self.in_flight.values()):
                if conn is not None:
                    conn.on_answer = None
                    conn.close()
            for task in self.tasks:
                task.cancel()
            raise
        finally:
            if self.watchdog is not None:
                self.watchdog.cancel()
        return self.next

    def answered_soon(self) -> None:
        """Refill after every answer read in this turn of the loop has freed its slot."""
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.pump)

    def pump(self) -> None:
        self.scheduled = False
        free = self.limit - len(self.in_flight)
        left = self.count - self.next
        # Refill in groups: build (encrypt) the requests first, then write them back to back. One
        # write at a time, each after a long encryption, finds the push service asleep and pays its
        # wake-up (most of the kernel's loopback cost); a group of writes wakes it once.
        if self.in_flight and free < min(self.group, left):
            return
        ready: list[tuple[int, _OriginPool, _Connection, bytes]] = []
        deadline = time.monotonic() + self.client.timeout
        origin: Origin | None = None
        pool: _OriginPool | None = None
        while self.next < self.count and len(self.in_flight) < self.limit:
            i = self.next
            self.next += 1
            previous = origin
            try:
                origin, target, lines, body = self.request(i)
            except Exception as exc:
                self.answer(i, exc)
                continue
            if pool is None or origin is not previous:
                pool = self.client._pool(origin)
            data = b"".join(
                (
                    b"POST ",
                    target.encode("latin-1"),
                    b" HTTP/1.1\r\nHost: ",
                    pool.host_header,
                    b"\r\n",
                    lines,
                    b"Content-Length: %d\r\n\r\n" % len(body),
                    body,
                )
            )
            conn = pool.take_idle()
            self.in_flight[i] = (conn, deadline)
            if conn is not None:
                ready.append((i, pool, conn, data))
            else:
                self.connect(i, pool, data)
        for i, pool, conn, data in ready:
            if i in self.in_flight:
                self.write(i, pool, conn, data, retry=True)
        if not self.in_flight and self.next >= self.count and not self.done.done():
            self.done.set_result(None)

    def connect(self, i: int, pool: _OriginPool, data: bytes) -> None:
        async def connecting() -> None:
            try:
                conn = await pool.connect()
            except HttpError as exc:
                self.finish(i, pool, None, exc)
                return
            if i not in self.in_flight:  # timed out meanwhile
                conn.close()
                return
            self.write(i, pool, conn, data, retry=False)

        task = self.loop.create_task(connecting())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def write(self, i: int, pool: _OriginPool, conn: _Connection, data: bytes, *, retry: bool) -> None:
        assert conn.transport is not None
        if not retry:  # a fresh connection: the slot had none yet
            self.in_flight[i] = (conn, self.in_flight[i][1])
        conn.ticket = (i, pool, data, retry)
        conn.on_answer = self.answered
        conn.used = True
        conn.transport.write(data)

    def answered(self, conn: _Connection, outcome: HttpResponse | HttpError) -> None:
        assert conn.ticket is not None
        i, pool, data, retry = conn.ticket
        if retry and isinstance(outcome, HttpError):
            # A kept-alive connection the server closed meanwhile: one fresh try.
            conn.close()
            self.connect(i, pool, data)
            return
        self.finish(i, pool, conn, outcome)

    def finish(
        self, i: int, pool: _OriginPool, conn: _Connection | None, outcome: HttpResponse | Exception
    ) -> None:
        if self.in_flight.pop(i, None) is None:
            return
        if conn is not None:
            if isinstance(outcome, HttpResponse) and conn.keep_alive and not conn.closed:
                pool.idle.append(conn)
            else:
                conn.close()
        try:
            self.answer(i, outcome)
        finally:
            self.answered_soon()

    def watch(self) -> None:
        now = time.monotonic()
        for i, (conn, deadline) in list(self.in_flight.items()):
            if deadline <= now:
                if conn is not None:
                    conn.on_answer = None
                    conn.close()
                self.in_flight.pop(i, None)
                self.answer(i, HttpError(f"no answer within {self.client.timeout:g}s"))
        self.pump()
        if not self.done.done():
            self.watchdog = self.loop.call_later(min(1.0, self.client.timeout / 4), self.watch)
