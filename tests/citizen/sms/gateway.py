"""A loopback SMS gateway: a real HTTP server on 127.0.0.1 that takes the JSON body Kẻng's default
template renders, de-duplicates by the client reference as real gateways do, and can be told to
answer a number with an error (429 with Retry-After, 500, 400) a given number of times."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    to: str
    text: str
    encoding: str
    sender: str
    reference: str
    idempotency_key: str
    gateway_id: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gateway: LoopbackSmsGateway

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, headers, answer = self.gateway.handle(self.path, dict(self.headers.items()), body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackSmsGateway:
    def __init__(self, token: str = "gw-secret") -> None:
        self.token = token
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.duplicates: list[str] = []
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.by_reference: dict[str, str] = {}
        handler = type("Handler", (_Handler,), {"gateway": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def answer(self, phone: str, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers.setdefault(phone, []).extend(answers)

    def to(self, phone: str) -> list[Received]:
        return [r for r in self.received if r.to == phone]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        headers = {k.lower(): v for k, v in headers.items()}
        if path != "/send":
            return 404, {}, {"error": "no such path"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"error": "bad credentials"}
        message = json.loads(body)
        with self.lock:
            scripted = self.answers.get(message["to"])
            if scripted:
                status, extra = scripted.pop(0)
                return status, extra, {"error": "scripted"}
            known = self.by_reference.get(message["reference"])
            if known is not None:
                self.duplicates.append(message["reference"])
                return 200, {}, {"id": known, "duplicate": True}
            gateway_id = f"gw-{len(self.received) + 1}"
            self.by_reference[message["reference"]] = gateway_id
            self.received.append(
                Received(
                    to=message["to"],
                    text=message["text"],
                    encoding=message["encoding"],
                    sender=message["sender"],
                    reference=message["reference"],
                    idempotency_key=headers.get("idempotency-key", ""),
                    gateway_id=gateway_id,
                )
            )
        return 200, {}, {"id": gateway_id}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
