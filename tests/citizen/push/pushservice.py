"""Loopback test doubles of the push services, as real HTTP servers on 127.0.0.1.

``LoopbackPushService`` is a Web Push service: each subscription it hands out has its own P-256
key pair and auth secret, exactly like a browser's; every POST is decrypted with the
subscription's private key (RFC 8291 via http_ece) and its VAPID header verified (RFC 8292:
signature, ``aud`` = this origin, ``exp`` within 24 h, key = the server's public key). Nothing is
mocked: if the sender's encryption or signing were wrong, nothing would be received.

``FakeFcm`` is an FCM HTTP v1 endpoint plus the OAuth token endpoint of a generated service
account, so the firebase-admin SDK runs unchanged against it."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from py_vapid import jwt as vapid_jwt


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Device:
    sub_id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    def subscription(self, **extra: Any) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}, **extra}


@dataclass
class Received:
    sub_id: str
    message: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    size: int
    plaintext_size: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _Base:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server: _Server | None = None
        self.connections: set[tuple[str, int]] = set()

    def start(self, handler: type[BaseHTTPRequestHandler]) -> None:
        handler.service = self  # type: ignore[attr-defined]
        self.server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _PushHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service: LoopbackPushService

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, headers, text = self.service.handle(
            self.path, dict(self.headers.items()), body, self.client_address
        )
        data = text.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackPushService(_Base):
    def __init__(self, vapid_public_key: str | None = None, delay: float = 0.0) -> None:
        super().__init__()
        self.vapid_public_key = vapid_public_key
        self.devices: dict[str, Device] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.start(_PushHandler)

    def device(self) -> Device:
        sub_id = uuid.uuid4().hex
        dev = Device(
            sub_id, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), f"{self.origin}/push/{sub_id}"
        )
        self.devices[sub_id] = dev
        return dev

    def answer(self, device: Device, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers.setdefault(device.sub_id, []).extend(answers)

    def counts(self) -> Counter[str]:
        return Counter(r.sub_id for r in self.received)

    def for_device(self, device: Device) -> list[Received]:
        return [r for r in self.received if r.sub_id == device.sub_id]

    def handle(
        self, path: str, headers: dict[str, str], body: bytes, peer: tuple[str, int]
    ) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.connections.add(peer)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self._handle(path, {k.lower(): v for k, v in headers.items()}, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _reject(self, why: str) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.rejected.append(why)
        return 400, {}, why

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], str]:
        sub_id = path.rsplit("/", 1)[-1]
        device = self.devices.get(sub_id)
        if device is None:
            return 404, {}, "no such subscription"
        with self.lock:
            scripted = self.answers.get(sub_id)
            if scripted:
                status, extra = scripted.pop(0)
                return status, extra, "scripted"
        ttl = headers.get("ttl", "")
        if not ttl.isdigit() or int(ttl) < 1:
            return self._reject(f"bad TTL {ttl!r}")
        if headers.get("content-encoding") != "aes128gcm":
            return self._reject("not aes128gcm")
        if headers.get("urgency") not in {"very-low", "low", "normal", "high"}:
            return self._reject("bad Urgency")
        claims = self._vapid(headers.get("authorization", ""))
        if isinstance(claims, str):
            return self._reject(claims)
        try:
            plaintext = http_ece.decrypt(
                body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
            )
        except Exception as exc:
            return self._reject(f"cannot decrypt: {exc}")
        with self.lock:
            self.received.append(
                Received(sub_id, json.loads(plaintext), headers, claims, len(body), len(plaintext))
            )
        return 201, {"Location": f"/m/{uuid.uuid4().hex}"}, ""

    def _vapid(self, header: str) -> dict[str, Any] | str:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "vapid":
            return "no VAPID authorization"
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        if self.vapid_public_key and parts.get("k") != self.vapid_public_key:
            return "VAPID key is not the server's"
        try:
            claims = vapid_jwt.decode(parts["t"], parts["k"])
        except Exception:
            return "VAPID signature invalid"
        if claims.get("aud") != self.origin:
            return f"VAPID aud {claims.get('aud')} is not {self.origin}"
        if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
            return "VAPID exp outside (now, now + 24 h]"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "VAPID sub missing"
        return claims


class _FcmHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service: FakeFcm

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, headers, payload = self.service.handle(self.path, dict(self.headers.items()), body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def fcm_error(status: int, code: str, fcm_code: str | None = None) -> dict[str, Any]:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        if fcm_code
        else []
    )
    return {"error": {"code": status, "message": f"{code} ({fcm_code})", "status": code, "details": details}}


@dataclass
class FcmAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


UNREGISTERED = FcmAnswer(404, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
SENDER_ID_MISMATCH = FcmAnswer(403, fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"))


def quota_exceeded(retry_after: int) -> FcmAnswer:
    return FcmAnswer(
        429, fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), {"Retry-After": str(retry_after)}
    )


class FakeFcm(_Base):
    PROJECT = "keng-test"

    def __init__(self) -> None:
        super().__init__()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.access_token = f"ya29.{uuid.uuid4().hex}"
        self.tokens_issued = 0
        self.messages: list[dict[str, Any]] = []
        self.answers: dict[str, list[FcmAnswer]] = {}
        self.start(_FcmHandler)

    def credentials_file(self, folder: Path) -> Path:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.PROJECT,
            "private_key_id": "test-key-1",
            "private_key": pem,
            "client_email": f"push@{self.PROJECT}.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": f"{self.origin}/token",
        }
        path = folder / "fcm-service-account.json"
        path.write_text(json.dumps(info))
        return path

    def handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        headers = {k.lower(): v for k, v in headers.items()}
        if path == "/token":
            form = dict(p.split("=", 1) for p in body.decode().split("&"))
            try:
                claims = jwt.decode(
                    form["assertion"],
                    self.key.public_key(),
                    algorithms=["RS256"],
                    options={"verify_aud": False},
                )
            except Exception as exc:
                return 400, {}, {"error": "invalid_grant", "error_description": str(exc)}
            if claims.get("iss") != f"push@{self.PROJECT}.iam.gserviceaccount.com":
                return 400, {}, {"error": "invalid_grant", "error_description": "unknown issuer"}
            with self.lock:
                self.tokens_issued += 1
            return 200, {}, {"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"}
        if path != f"/v1/projects/{self.PROJECT}/messages:send":
            return 404, {}, fcm_error(404, "NOT_FOUND")
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, {}, fcm_error(401, "UNAUTHENTICATED")
        message = json.loads(body)["message"]
        token = message.get("token", "")
        with self.lock:
            scripted = self.answers.get(token)
            if scripted:
                answer = scripted.pop(0)
                return answer.status, answer.headers, answer.body
            self.messages.append(message)
        return 200, {}, {"name": f"projects/{self.PROJECT}/messages/{uuid.uuid4().hex}"}

    def counts(self) -> Counter[str]:
        return Counter(m["token"] for m in self.messages)
