"""Push services behind small interfaces: Web Push (RFC 8030/8291/8292) and Firebase Cloud Messaging.

``WebPushSender`` encrypts with pywebpush (RFC 8291, aes128gcm), signs VAPID once per push-service
origin and reuses the token until near its expiry, always sets ``TTL`` (pywebpush would send 0),
``Urgency`` and ``Topic``, and POSTs over kept-alive connections. ``FcmSender`` uses the
firebase-admin SDK's ``send_each_for_multicast`` in batches of at most 500 tokens. Both answer
each device with a :class:`SendResult` saying sent, gone (prune it), retry (with Retry-After) or
failed. The fakes record what they were asked to send."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import os
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from backend.adapters.http1 import Http1Client, HttpError, HttpResponse, Origin, split_url

log = logging.getLogger(__name__)

Outcome = Literal["sent", "gone", "retry", "failed", "skipped"]  # skipped: never offered to a service
FCM_BATCH = 500
VAPID_LIFETIME = 12 * 3600  # RFC 8292 allows up to 24 h; re-signed an hour before it runs out
VAPID_MARGIN = 3600
ENCRYPT_AHEAD = 128  # messages of a fan-out batch encrypted in one run (see send_batch)


@dataclass(frozen=True)
class PushOptions:
    ttl: int  # seconds the push service keeps an undelivered message; never 0
    urgency: Literal["very-low", "low", "normal", "high"]
    topic: str  # RFC 8030 Topic / FCM collapse key: a newer message replaces an undelivered one

    def __post_init__(self) -> None:
        if self.ttl < 1:
            raise ValueError("TTL must be at least 1 second")


class WebPushTarget(NamedTuple):
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    error: str = ""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


class VapidKeys:
    """The server's VAPID key pair, generated on first start and kept under the keys folder."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self.private_key = private_key
        self.vapid = Vapid02(private_key=private_key)
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(raw)  # what browsers pass as applicationServerKey

    @classmethod
    def load_or_create(cls, folder: Path) -> VapidKeys:
        path = folder / "private.pem"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = folder / f".private.{uuid.uuid4().hex}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            try:
                os.link(tmp, path)  # never overwrite a key another process wrote first
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return cls(key)


class VapidSigner:
    """One signed VAPID header per push-service origin, reused until an hour before it expires."""

    def __init__(self, keys: VapidKeys, subject: str) -> None:
        self.keys = keys
        self.subject = subject
        self._cache: dict[str, tuple[str, float]] = {}
        self.signatures = 0

    def header(self, origin: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        cached = self._cache.get(origin)
        if cached is not None and cached[1] - VAPID_MARGIN > now:
            return cached[0]
        exp = int(now) + VAPID_LIFETIME
        # A fresh dict each time: claims passed to signing code must never be shared or reused.
        claims: dict[str, str | int] = {"aud": origin, "exp": exp, "sub": self.subject}
        value = self.keys.vapid.sign(claims)["Authorization"]
        self._cache[origin] = (value, float(exp))
        self.signatures += 1
        return value


class WebPushBatch:
    """One page of messages. A sender starts them in order, counts how many it started and fills
    ``results[i]`` as answers come; a message started but unanswered (cancelled) stays ``None``."""

    __slots__ = ("payloads", "results", "started", "targets")

    def __init__(self, targets: Sequence[WebPushTarget], payloads: Sequence[bytes]) -> None:
        self.targets = targets
        self.payloads = payloads
        self.results: list[SendResult | None] = [None] * len(targets)
        self.started = 0


class WebPushSender(Protocol):
    async def send(self, target: WebPushTarget, payload: bytes, options: PushOptions) -> SendResult: ...

    async def aclose(self) -> None: ...


async def send_each(
    sender: WebPushSender, batch: WebPushBatch, options: PushOptions, concurrency: int
) -> None:
    """A batch through ``sender.send``, ``concurrency`` at a time (senders without ``send_batch``)."""
    queue = iter(range(len(batch.targets)))
    stop: list[BaseException] = []

    async def worker() -> None:
        for i in queue:
            if stop:
                return
            batch.started = i + 1
            try:
                batch.results[i] = await sender.send(batch.targets[i], batch.payloads[i], options)
            except Exception as exc:
                batch.results[i] = SendResult("retry", error=f"{type(exc).__name__}: {exc}"[:200])
            except BaseException as exc:  # cancelled or dying: finish what is in flight, then stop
                stop.append(exc)
                return

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(batch.targets)))))
    if stop:
        raise stop[0]


class _BadSubscription(Exception):
    pass


class FcmSender(Protocol):
    async def send_multicast(
        self,
        tokens: Sequence[str],
        data: dict[str, str],
        title: str,
        body: str,
        options: PushOptions,
    ) -> list[SendResult]: ...

    async def aclose(self) -> None: ...


def encrypt(target: WebPushTarget, payload: bytes) -> bytes:
    """RFC 8291 aes128gcm body for one subscription (pywebpush does the ECDH and ECE)."""
    pusher = WebPusher({"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}})
    return pusher.encode(payload, "aes128gcm")["body"]


_SENT: dict[int, SendResult] = {}  # results are immutable: one per 2xx status serves every message


def classify_http(status: int, headers: dict[str, str], body: bytes) -> SendResult:
    if 200 <= status < 300:
        sent = _SENT.get(status)
        if sent is None:
            sent = _SENT[status] = SendResult("sent", status)
        return sent
    text = body[:200].decode("utf-8", "replace")
    if status in (404, 410):
        return SendResult("gone", status, error=text or "subscription gone")
    if status == 429 or status >= 500:
        return SendResult("retry", status, parse_retry_after(headers.get("retry-after")), text)
    return SendResult("failed", status, error=text or f"HTTP {status}")


class PyWebPushSender:
    """The real Web Push sender: pywebpush encryption, cached VAPID, kept-alive connections."""

    def __init__(self, signer: VapidSigner, *, per_origin: int = 64, timeout: float = 10.0) -> None:
        self.signer = signer
        self.http = Http1Client(per_origin=per_origin, timeout=timeout)

    async def send(self, target: WebPushTarget, payload: bytes, options: PushOptions) -> SendResult:
        try:
            origin, _ = split_url(target.endpoint)
            body = encrypt(target, payload)
        except (HttpError, ValueError, KeyError) as exc:
            return SendResult("failed", error=f"bad subscription: {exc}")
        headers = [
            ("Authorization", self.signer.header(origin.url)),
            ("TTL", str(options.ttl)),
            ("Urgency", options.urgency),
            ("Topic", options.topic),
            ("Content-Encoding", "aes128gcm"),
            ("Content-Type", "application/octet-stream"),
        ]
        try:
            response = await self.http.post(target.endpoint, headers, body)
        except HttpError as exc:
            return SendResult("retry", error=str(exc)[:200])
        return classify_http(response.status, response.headers, response.body)

    async def send_batch(self, batch: WebPushBatch, options: PushOptions, concurrency: int) -> None:
        """The fan-out path: the same encryption and headers as ``send``, with the header block
        built once per origin and requests driven by ``Http1Client.post_all``."""
        common = (
            f"TTL: {options.ttl}\r\nUrgency: {options.urgency}\r\nTopic: {options.topic}\r\n"
            "Content-Encoding: aes128gcm\r\nContent-Type: application/octet-stream\r\n"
        ).encode("latin-1")
        heads: dict[str, bytes] = {}
        targets, payloads, results = batch.targets, batch.payloads, batch.results

        count = len(targets)
        bodies: list[bytes | Exception | None] = [None] * count

        def encrypt_ahead(start: int) -> None:
            # The next run of messages is encrypted back to back, before their requests go out:
            # one encryption after another keeps the crypto code and data in the CPU caches, where
            # one between every request's HTTP and event-loop work finds them evicted (measured:
            # ~15 µs less CPU a message for the fan-out, out of ~60 of its own). An error is kept
            # as that message's answer; the others of the run are unaffected.
            for j in range(start, min(count, start + ENCRYPT_AHEAD)):
                try:
                    bodies[j] = encrypt(targets[j], payloads[j])
                except (ValueError, KeyError) as exc:
                    bodies[j] = _BadSubscription(f"bad subscription: {exc}")
                except Exception as exc:
                    bodies[j] = exc

        def request(i: int) -> tuple[Origin, str, bytes, bytes]:
            batch.started = i + 1
            try:
                origin, path = split_url(targets[i].endpoint)
            except HttpError as exc:
                raise _BadSubscription(f"bad subscription: {exc}") from exc
            body = bodies[i]
            if body is None:
                encrypt_ahead(i)
                body = bodies[i]
            bodies[i] = None
            if isinstance(body, Exception):
                raise body
            assert body is not None
            head = heads.get(origin.url)
            if head is None:
                vapid = self.signer.header(origin.url)
                head = heads[origin.url] = b"Authorization: " + vapid.encode("latin-1") + b"\r\n" + common
            return origin, path, head, body

        def answer(i: int, outcome: HttpResponse | Exception) -> None:
            if isinstance(outcome, HttpResponse):
                results[i] = classify_http(outcome.status, outcome.headers, outcome.body)
            elif isinstance(outcome, _BadSubscription):
                results[i] = SendResult("failed", error=str(outcome))
            elif isinstance(outcome, HttpError):
                results[i] = SendResult("retry", error=str(outcome)[:200])
            else:
                results[i] = SendResult("retry", error=f"{type(outcome).__name__}: {outcome}"[:200])

        await self.http.post_all(len(targets), request, answer, concurrency)

    async def aclose(self) -> None:
        await self.http.aclose()


class FirebaseFcmSender:
    """The real FCM sender through the firebase-admin SDK (HTTP v1 API, one request per token)."""

    def __init__(self, credentials_path: Path, endpoint: str = "") -> None:
        import firebase_admin
        from firebase_admin import credentials, messaging

        self._messaging = messaging
        self._firebase = firebase_admin
        self.app = firebase_admin.initialize_app(
            credentials.Certificate(str(credentials_path)), name=f"keng-{uuid.uuid4().hex[:12]}"
        )
        self._service = messaging._get_messaging_service(self.app)
        if endpoint:
            # The SDK has no public switch for its endpoint; tests and FCM-compatible gateways
            # point the messaging service's send URL elsewhere.
            project = self._service._project_id
            self._service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{project}/messages:send"

    async def send_multicast(
        self,
        tokens: Sequence[str],
        data: dict[str, str],
        title: str,
        body: str,
        options: PushOptions,
    ) -> list[SendResult]:
        m = self._messaging
        results: list[SendResult] = []
        for start in range(0, len(tokens), FCM_BATCH):
            batch = list(tokens[start : start + FCM_BATCH])
            with warnings.catch_warnings():
                # SDK 7 nudges towards Firebase installation ids; registration tokens remain the
                # supported address for devices that registered with one.
                warnings.simplefilter("ignore", DeprecationWarning)
                message = self._multicast(batch, data, title, body, options)
            response = await m.send_each_for_multicast_async(message, app=self.app)
            results.extend(self._result(r) for r in response.responses)
        return results

    def _multicast(
        self, batch: list[str], data: dict[str, str], title: str, body: str, options: PushOptions
    ) -> Any:
        m = self._messaging
        high = options.urgency == "high"
        return m.MulticastMessage(
            tokens=batch,
            data=data,
            notification=m.Notification(title=title, body=body),
            android=m.AndroidConfig(
                priority="high" if high else "normal",
                ttl=timedelta(seconds=options.ttl),
                collapse_key=options.topic,
            ),
            apns=m.APNSConfig(
                headers={
                    "apns-priority": "10" if high else "5",
                    "apns-collapse-id": options.topic,
                    "apns-expiration": str(int(time.time()) + options.ttl),
                }
            ),
            webpush=m.WebpushConfig(
                headers={"TTL": str(options.ttl), "Urgency": options.urgency, "Topic": options.topic}
            ),
        )

    def _result(self, response: Any) -> SendResult:
        if response.success:
            return SendResult("sent", 200)
        exc = response.exception
        m = self._messaging
        http = getattr(exc, "http_response", None)
        status = getattr(http, "status_code", None)
        if isinstance(exc, (m.UnregisteredError, m.SenderIdMismatchError)):
            return SendResult("gone", status, error=f"{type(exc).__name__}: {exc}"[:200])
        retryable = isinstance(exc, m.QuotaExceededError) or (
            status is not None and (status == 429 or status >= 500)
        )
        if retryable or status is None:
            headers = getattr(http, "headers", {}) or {}
            return SendResult("retry", status, parse_retry_after(headers.get("retry-after")), str(exc)[:200])
        return SendResult("failed", status, error=f"{type(exc).__name__}: {exc}"[:200])

    async def aclose(self) -> None:
        await self._service._async_client.aclose()
        # delete_app closes the (already closed) client with asyncio.run: not from a running loop.
        await asyncio.to_thread(self._firebase.delete_app, self.app)


@dataclass
class SentWebPush:
    target: WebPushTarget
    payload: bytes
    options: PushOptions


@dataclass
class FakeWebPushSender:
    """Records every message; ``results`` scripts an answer per endpoint (default: sent)."""

    results: dict[str, list[SendResult]] = field(default_factory=dict)
    sent: list[SentWebPush] = field(default_factory=list)
    closed: int = 0

    async def send(self, target: WebPushTarget, payload: bytes, options: PushOptions) -> SendResult:
        scripted = self.results.get(target.endpoint)
        result = scripted.pop(0) if scripted else SendResult("sent", 201)
        if result.outcome == "sent":
            self.sent.append(SentWebPush(target, payload, options))
        return result

    async def aclose(self) -> None:
        self.closed += 1


@dataclass
class FakeFcmSender:
    results: dict[str, list[SendResult]] = field(default_factory=dict)
    sent: list[tuple[str, dict[str, str], PushOptions]] = field(default_factory=list)

    async def send_multicast(
        self,
        tokens: Sequence[str],
        data: dict[str, str],
        title: str,
        body: str,
        options: PushOptions,
    ) -> list[SendResult]:
        if len(tokens) > FCM_BATCH:
            out: list[SendResult] = []
            for start in range(0, len(tokens), FCM_BATCH):
                out += await self.send_multicast(
                    tokens[start : start + FCM_BATCH], data, title, body, options
                )
            return out
        out = []
        for token in tokens:
            scripted = self.results.get(token)
            result = scripted.pop(0) if scripted else SendResult("sent", 200)
            if result.outcome == "sent":
                self.sent.append((token, data, options))
            out.append(result)
        return out

    async def aclose(self) -> None:
        return None
