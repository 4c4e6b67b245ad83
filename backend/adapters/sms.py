"""SMS gateways behind one small interface: an HTTP gateway configured by URL and body template,
and a fake that records what it was asked to send.

Vietnamese carriers' brandname gateways and aggregators all take one HTTP request per message
with the number, the text and a client reference, in a body of their own design; so the body is a
template (``KENG_SMS_GATEWAY_TEMPLATE``) with ``{to}``, ``{text}``, ``{encoding}``, ``{sender}``,
``{reference}`` and ``{segments}`` placeholders, each escaped for the body's content type (a JSON
string's inside, or form-urlencoded). The reference is also sent as ``Idempotency-Key``: a message
re-sent after a crash carries the reference of the first attempt, so a gateway that de-duplicates
by reference never delivers it twice."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import quote_plus

import httpx

from backend.adapters.push import parse_retry_after

SmsOutcome = Literal["sent", "retry", "failed"]
PLACEHOLDERS = ("to", "text", "encoding", "sender", "reference", "segments")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
DEFAULT_TEMPLATE = (
    '{"to": "{to}", "text": "{text}", "encoding": "{encoding}", "sender": "{sender}", '
    '"reference": "{reference}"}'
)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    encoding: str  # gsm7 | ucs2
    segments: int
    reference: str  # unique per recipient and notice event; the gateway's de-duplication key


@dataclass(frozen=True)
class SmsResult:
    outcome: SmsOutcome
    status: int | None = None
    gateway_id: str = ""
    retry_after: float | None = None
    error: str = ""


class SmsGateway(Protocol):
    async def send(self, message: SmsMessage) -> SmsResult: ...

    async def aclose(self) -> None: ...


def render_body(template: str, values: dict[str, str], content_type: str) -> str:
    """Fill the template's placeholders, escaped for the body's content type."""
    if "json" in content_type:

        def escape(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]
    elif "x-www-form-urlencoded" in content_type:
        escape = quote_plus
    else:

        def escape(value: str) -> str:
            return value

    return _PLACEHOLDER.sub(lambda m: escape(values[m.group(1)]), template)


def classify(status: int, headers: dict[str, str], body: bytes) -> SmsResult:
    """2xx sent (with the gateway's id when its JSON answer has one); 408/429/5xx retry (with
    ``Retry-After``); any other answer is a permanent failure for this message."""
    if 200 <= status < 300:
        return SmsResult("sent", status, gateway_id=_gateway_id(body))
    text = body[:200].decode("utf-8", "replace")
    if status in (408, 425, 429) or status >= 500:
        return SmsResult(
            "retry", status, retry_after=parse_retry_after(headers.get("retry-after")), error=text
        )
    return SmsResult("failed", status, error=f"HTTP {status}: {text}")


def _gateway_id(body: bytes) -> str:
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        return ""
    if isinstance(answer, dict):
        for key in ("id", "message_id", "messageId", "sid"):
            if answer.get(key) is not None:
                return str(answer[key])[:128]
    return ""


class HttpSmsGateway:
    """One POST per message to ``url`` with the rendered template; one pooled client per run."""

    def __init__(
        self,
        url: str,
        template: str = DEFAULT_TEMPLATE,
        *,
        content_type: str = "application/json",
        sender: str = "",
        authorization: str = "",
        timeout: float = 15.0,
    ) -> None:
        self.url = url
        self.template = template
        self.content_type = content_type
        self.sender = sender
        headers = {"Content-Type": f"{content_type}; charset=utf-8"}
        if authorization:
            headers["Authorization"] = authorization
        self.client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def send(self, message: SmsMessage) -> SmsResult:
        values = {
            "to": message.to,
            "text": message.text,
            "encoding": message.encoding,
            "sender": self.sender,
            "reference": message.reference,
            "segments": str(message.segments),
        }
        body = render_body(self.template, values, self.content_type).encode("utf-8")
        try:
            response = await self.client.post(
                self.url, content=body, headers={"Idempotency-Key": message.reference}
            )
        except httpx.HTTPError as exc:
            return SmsResult("retry", error=f"{type(exc).__name__}: {exc}"[:255])
        return classify(response.status_code, dict(response.headers), response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class FakeSmsGateway:
    """Records every message; ``results`` scripts answers per number (default: sent)."""

    results: dict[str, list[SmsResult]] = field(default_factory=dict)
    sent: list[SmsMessage] = field(default_factory=list)
    attempts: list[SmsMessage] = field(default_factory=list)

    async def send(self, message: SmsMessage) -> SmsResult:
        self.attempts.append(message)
        scripted = self.results.get(message.to)
        result = scripted.pop(0) if scripted else SmsResult("sent", 200, gateway_id=f"fake-{len(self.sent)}")
        if result.outcome == "sent":
            self.sent.append(message)
        return result

    async def aclose(self) -> None:
        return None
