"""An offline official's phone: work without signal, then sync in one round trip per checkpoint.

The official creates and edits drafts and feedback entries at any time; each change is a mutation
in the local queue, numbered per device. :meth:`OfflineOfficial.sync` pushes the queue and pulls
changes in the same requests until the server says there is no more, applying each answer in one
local transaction. Anything that goes wrong on the way — no answer, a cut, a 429/503 — is retried
with exponential backoff and jitter (honouring ``Retry-After``); the same mutations go again and
the server recognises them. A mutation the server rejects for good is taken off the queue and kept
in the list of rejected changes, so the official sees why. A "reset" answer (phone away longer
than the tombstone horizon, server restored from a backup, scope unknown) replaces the local rows
with a fresh snapshot and keeps every unsent mutation."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from mobile_client_py.store import RowChange, Store, row_hash

PROTOCOL = 2
PUSH_BUDGET = 256 * 1024  # bytes of mutations per request before compression
PAGE_BYTES = 64 * 1024  # what one checkpoint may cost on the wire (compressed)
PAGE_RAW_MAX = 1024 * 1024  # the largest page asked for, uncompressed (the server's default cap)
RATIO_MARGIN = 0.85  # pages vary: ask for a little less than the last ratio promises
# What a request says of where the phone stands, with its value before the first sync.
POSITION: dict[str, Any] = {"epoch": None, "cursor": 0, "tag": "", "scope": None, "scan": None, "wide": None}
RATIO_SAMPLE = 2048  # answers smaller than this (uncompressed) compress worse than pages do: not measured


class Killed(Exception):
    """Raised by a test hook to stop the client dead at a given point (like the OS killing the app)."""


class SyncFailed(Exception):
    """The server refused the sync itself (not a transient problem)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Backoff:
    """Exponential backoff with full jitter; ``Retry-After`` from the server is a floor."""

    base: float = 0.5
    cap: float = 60.0
    attempts: int = 8
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wait = self.rng.uniform(0, min(self.cap, self.base * 2**attempt))
        return max(wait, retry_after or 0.0)


@dataclass
class SyncReport:
    requests: int = 0
    retries: int = 0
    sent: int = 0
    applied: int = 0
    rejected: int = 0
    changes: int = 0
    resets: list[str] = field(default_factory=list)
    repaired: int = 0
    bytes_up: int = 0
    bytes_down: int = 0


TRANSIENT_STATUS = {429, 500, 502, 503, 504}


class _Change(msgspec.Struct):
    """A change as the server sends it, with its fields ``f`` left as the JSON text they came in."""

    t: str
    id: str
    v: int = 0
    f: msgspec.Raw = msgspec.Raw(b"null")
    rm: bool = False


_parts = msgspec.json.Decoder(dict[str, msgspec.Raw])
_changes = msgspec.json.Decoder(list[_Change])
_any = msgspec.json.Decoder()


def decode_answer(content: bytes) -> dict[str, Any]:
    """An answer's JSON, with its ``changes`` (a full pull brings thousands of rows) as
    :data:`RowChange` tuples whose fields are the text the server sent: the store keeps that text
    as it is, so a row's fields are never decoded only to be encoded again. Anything that cannot be
    stored (malformed JSON, text that is not UTF-8, a change of the wrong shape) raises ``ValueError``
    here, before the checkpoint is applied, as a garbled answer always has."""
    parts = _parts.decode(content)
    answer = {key: _any.decode(raw) for key, raw in parts.items() if key != "changes"}
    if "changes" in parts:
        answer["changes"] = [
            (c.t, c.id, c.v, None if c.rm else _fields_text(c.f)) for c in _changes.decode(parts["changes"])
        ]
    return answer


def _fields_text(raw: msgspec.Raw) -> str:
    """A row's fields as JSON text (an object); ``null`` or absent fields are an empty row."""
    text = str(raw, "utf-8")
    if text.startswith("{"):
        return text
    return json.dumps(_any.decode(raw) or {}, ensure_ascii=False, separators=(",", ":"))


class OfflineOfficial:
    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
        hook: Callable[[str], None] | None = None,
        timeout: float = 30.0,
        protocol: int = PROTOCOL,
        page_bytes: int = PAGE_BYTES,
    ) -> None:
        self.store = store
        self.http = http
        self.sleep = sleep
        self.backoff = backoff or Backoff()
        self.hook = hook or (lambda point: None)
        self.timeout = timeout
        self.protocol = protocol
        self.page_bytes = page_bytes
        # Uncompressed bytes per wire byte of the last answer big enough to tell (1 until then).
        self.ratio = float(store.get("wire_ratio", 1.0))
        self.device = store.device_id()

    # -- signing in ---------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> None:
        response = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        if response.status_code != 200:
            raise SyncFailed(response.status_code, _body(response))
        self._keep_tokens(response.json())

    def use_token(self, access_token: str, refresh_token: str | None = None) -> None:
        with self.store.transaction():
            self.store.put("access_token", access_token)
            self.store.put("refresh_token", refresh_token)

    def _keep_tokens(self, pair: dict[str, Any]) -> None:
        with self.store.transaction():
            self.store.put("access_token", pair["access_token"])
            self.store.put("refresh_token", pair.get("refresh_token"))
            self.store.put("account", pair.get("account_id"))

    async def _refresh(self) -> bool:
        token = self.store.get("refresh_token")
        if not token:
            return False
        response = await self.http.post("/api/v1/auth/refresh", json={"refresh_token": token})
        if response.status_code != 200:
            return False
        self._keep_tokens(response.json())
        return True

    # -- working offline ----------------------------------------------------------------------

    def create(self, table: str, fields: dict[str, Any], row_id: str | None = None) -> str:
        row_id = row_id or str(uuid.uuid4())
        self.store.enqueue(table, "c", row_id, dict(fields), {}, 0, proto=self.protocol)
        return row_id

    def update(self, table: str, row_id: str, changes: dict[str, Any]) -> int:
        current = self.store.view_row(table, row_id)
        if current is None:
            raise KeyError(f"{table}/{row_id} is not on this phone")
        base = {k: current.get(k) for k in changes}
        held = self.store.base(table, row_id)
        return self.store.enqueue(
            table, "u", row_id, dict(changes), base, held[0] if held else 0, proto=self.protocol
        )

    def delete(self, table: str, row_id: str) -> int:
        if self.store.view_row(table, row_id) is None:
            raise KeyError(f"{table}/{row_id} is not on this phone")
        held = self.store.base(table, row_id)
        return self.store.enqueue(table, "d", row_id, {}, {}, held[0] if held else 0, proto=self.protocol)

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        return self.store.view(table)

    def conflicts(self) -> dict[str, dict[str, Any]]:
        return self.store.view("conflict")

    def rejected(self) -> list[dict[str, Any]]:
        return self.store.mutations("rejected")

    def resolve(self, conflict_id: str, resolution: str) -> int:
        return self.update("conflict", conflict_id, {"resolution": resolution})

    # -- syncing ------------------------------------------------------------------------------

    async def sync(self, *, verify: bool = False, max_rounds: int = 10_000) -> SyncReport:
        """Push everything pending and pull until the server has nothing more; then, if asked,
        compare digests and repair what differs.

        While a pull-only checkpoint is being applied, the request for the next one is already on
        its way (see :meth:`_ahead`): the phone's own work and the link's round trip overlap
        instead of adding up, page after page of a first login."""
        report = SyncReport()
        mismatched: list[str] = []
        request = self._request(verify)
        ahead: asyncio.Task[dict[str, Any]] | None = None
        try:
            for _ in range(max_rounds):
                if ahead is None:
                    answer = await self._send("POST", "/api/v1/sync", request, report)
                else:
                    answer, ahead = await ahead, None
                report.sent += len(request["mutations"])
                self.hook("received")
                following = self._ahead(request, answer, verify)
                if following is not None:
                    on_the_wire = asyncio.Event()
                    ahead = asyncio.ensure_future(
                        self._send("POST", "/api/v1/sync", following, report, on_the_wire)
                    )
                    await _first(ahead, on_the_wire)
                mismatched = self._apply(answer, report)
                self.hook("applied")
                if following is not None:
                    request = following
                    continue
                if not answer.get("reset"):
                    sent = {m.get("s", m.get("seq")) for m in request["mutations"]}
                    unsent = [seq for seq in self.store.pending_seqs() if seq not in sent]
                    if not (answer.get("more") or answer.get("gap") or unsent):
                        break
                request = self._request(verify)
        finally:
            if ahead is not None:
                # Killed or failed while applying: the request sent ahead only read, drop it.
                ahead.cancel()
                with contextlib.suppress(BaseException):
                    await ahead
        if mismatched:
            report.repaired += await self.repair(mismatched, report)
        return report

    def _ahead(self, request: dict[str, Any], answer: dict[str, Any], verify: bool) -> dict[str, Any] | None:
        """The next request, if it can leave before this answer is applied: only a pull with
        nothing to push, after an answer that says there is more and asks nothing of the queue
        (no reset, no gap, no acknowledgement lost). It carries the position the answer leads
        to; if the phone dies before applying the answer, it asks again from where it stands."""
        if request["mutations"] or answer.get("reset") or answer.get("gap") or not answer.get("more"):
            return None
        if self.store.pending_seqs() or int(answer.get("device_seq", 0)) < self.store.max_acked():
            return None
        return self._request(verify, self._position_after(answer))

    def _position_after(self, answer: dict[str, Any]) -> dict[str, Any]:
        """Where the phone stands once ``answer`` (not a reset) is applied: an unfinished scan
        moves only its token; anything else moves the cursor."""
        s = self.store
        position = {key: s.get(key, first) for key, first in POSITION.items()}
        scan = answer.get("scan")
        if scan and not scan["done"]:
            position["scan"] = scan["token"]
        else:
            position.update(
                scan=None,
                cursor=int(answer.get("cursor", 0)),
                tag=answer.get("tag", ""),
                wide=answer.get("wide"),
            )
            if "scope" in answer:
                position["scope"] = answer["scope"]
        position["epoch"] = answer.get("epoch")
        return position

    def _request(self, verify: bool, position: dict[str, Any] | None = None) -> dict[str, Any]:
        """The next request: the queue's first mutations from where the store stands, or none
        from ``position`` (a request sent ahead)."""
        s = self.store
        mutations = []
        if position is None:
            position = {key: s.get(key, first) for key, first in POSITION.items()}
            used = 0
            for m in s.iter_pending():
                item = self._wire_mutation(m)
                size = len(json.dumps(item, ensure_ascii=False))
                if mutations and used + size > PUSH_BUDGET:
                    break
                mutations.append(item)
                used += size
        return {
            "protocol": self.protocol,
            "device": self.device,
            "epoch": position["epoch"],
            "cursor": position["cursor"],
            "tag": position["tag"],
            "scope": position["scope"],
            "scan": position["scan"],
            "wide": position["wide"],
            "mutations": mutations,
            "max_bytes": self.max_bytes(),
            "digest": verify,
        }

    def max_bytes(self) -> int:
        """The page bound to ask for. The server bounds a page by its uncompressed size, but what a
        cut connection wastes, and what the official waits for, is the compressed size: the phone
        asks for ``page_bytes`` times the compression its last answers showed (with a margin), so a
        checkpoint costs about ``page_bytes`` on the wire whatever the rows look like."""
        wanted = int(self.page_bytes * max(1.0, self.ratio * RATIO_MARGIN))
        return max(self.page_bytes, min(wanted, PAGE_RAW_MAX))

    def _wire_mutation(self, m: dict[str, Any]) -> dict[str, Any]:
        """A mutation queued by the previous version of the app keeps its old shape (no per-field
        base values were recorded for it); the server reads both shapes."""
        if self.protocol == 1 or m["proto"] == 1:
            op = {"c": "insert", "u": "update", "d": "delete"}[m["op"]]
            return {
                "seq": m["seq"],
                "table": m["t"],
                "op": op,
                "id": m["id"],
                "base_version": m["v"],
                "data": m["fields"],
            }
        return {
            "s": m["seq"],
            "t": m["t"],
            "op": m["op"],
            "id": m["id"],
            "v": m["v"],
            "f": m["fields"],
            "b": m["base"] or {},
        }

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        report: SyncReport,
        on_the_wire: asyncio.Event | None = None,
    ) -> dict[str, Any]:
        """One request, retried as long as trouble is transient. ``on_the_wire`` is set once the
        request's body has been written to the connection (httpcore's trace of the send)."""

        async def trace(event: str, info: dict[str, Any]) -> None:
            if on_the_wire is not None and event.endswith("send_request_body.complete"):
                on_the_wire.set()

        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        payload = gzip.compress(raw, 6) if len(raw) > 1024 else raw
        refreshed = False
        for attempt in range(self.backoff.attempts):
            headers = {"Authorization": f"Bearer {self.store.get('access_token')}", "Accept-Encoding": "gzip"}
            if body is not None:
                headers["Content-Type"] = "application/json"
                if payload is not raw:
                    headers["Content-Encoding"] = "gzip"
            report.requests += 1
            self.hook("sending")
            retry_after: float | None = None
            try:
                response = await asyncio.wait_for(
                    self.http.request(
                        method,
                        path,
                        content=payload if body is not None else None,
                        headers=headers,
                        extensions={"trace": trace},
                    ),
                    self.timeout,
                )
                report.bytes_up += len(payload)
                wire = int(response.headers.get("content-length") or len(response.content))
                report.bytes_down += wire
                if response.status_code == 200 and len(response.content) >= RATIO_SAMPLE:
                    self.ratio = len(response.content) / wire
                if response.status_code == 401 and not refreshed and await self._refresh():
                    refreshed = True
                    continue
                if response.status_code in TRANSIENT_STATUS:
                    retry_after = _retry_after(response)
                    raise _Transient(response.status_code)
                if response.status_code >= 400:
                    raise SyncFailed(response.status_code, _body(response))
                return decode_answer(response.content)
            except (httpx.HTTPError, TimeoutError, ValueError, _Transient):
                report.retries += 1
                if attempt == self.backoff.attempts - 1:
                    raise
                await self.sleep(self.backoff.delay(attempt, retry_after))
        raise AssertionError("unreachable")

    def _apply(self, answer: dict[str, Any], report: SyncReport) -> list[str]:
        """One checkpoint, all or nothing (committed without a flush: see :meth:`Store.transaction`)."""
        s = self.store
        mismatched: list[str] = []
        with s.transaction(durable=False):
            self.hook("applying")
            if answer.get("reset"):
                report.resets.append(answer["reset"]["reason"])
                s.requeue_after(int(answer.get("device_seq", 0)))
                s.db.execute("UPDATE rows SET seen = 0")
                s.put("cursor", 0)
                s.put("tag", "")
                for key in ("scope", "scan", "wide"):
                    s.put(key, None)
                s.put("resetting", True)
                s.put("epoch", answer.get("epoch"))
                return []
            for ack in answer.get("acks", []):
                self._ack(ack, report)
            if int(answer.get("device_seq", 0)) < s.max_acked():
                s.requeue_after(int(answer["device_seq"]))
            changes: list[RowChange] = answer.get("changes", [])
            report.changes += len(changes)
            s.put_rows(changes)
            for key, value in self._position_after(answer).items():
                s.put(key, value)
            scan = answer.get("scan")
            if scan and scan["done"] and s.get("resetting"):
                s.db.execute("DELETE FROM rows WHERE seen = 0")
                s.put("resetting", False)
            s.put("device_seq", int(answer.get("device_seq", 0)))
            s.put("wire_ratio", round(self.ratio, 2))
            digest = answer.get("digest")
            if digest:
                mismatched = [t for t, d in digest.items() if s.digest(t) != d]
        return mismatched

    def _ack(self, ack: dict[str, Any], report: SyncReport) -> None:
        s = self.store
        m = s.mutation(int(ack["s"]))
        if m is None or m["state"] != "pending":
            return
        if ack["st"] == "rej":
            report.rejected += 1
            s.set_mutation(m["seq"], "rejected", ack)
            return
        report.applied += 1
        s.set_mutation(m["seq"], "acked", ack)
        table, row_id = m["t"], m["id"]
        if m["op"] == "d":
            s.drop_row(table, row_id)
            return
        if not ack.get("t"):
            return  # applied long ago (ledger pruned): the pull brings the row
        held = s.base(table, row_id)
        if m["op"] == "c":
            data = {**m["fields"], **ack.get("fix", {})}
        elif held is None:
            return
        else:
            data = {**held[1], **m["fields"], **ack.get("fix", {})}
        s.put_row(
            table,
            row_id,
            int(ack.get("v") or (held[0] if held else 0)),
            {k: v for k, v in data.items() if v is not None},
        )

    # -- integrity ----------------------------------------------------------------------------

    async def repair(self, tables: list[str], report: SyncReport | None = None) -> int:
        """Fetch only what differs: bucket digests, then the rows of the buckets that differ."""
        report = report or SyncReport()
        fixed = 0
        for table in tables:
            mine = self.store.buckets(table)
            buckets = {}
            for b, rows in mine.items():
                n, x = 0, 0
                for row_id, version in rows:
                    n += 1
                    x ^= row_hash(table, row_id, version)
                buckets[str(b)] = {"n": n, "x": f"{x:016x}"}
            answer = await self._send(
                "POST", "/api/v1/sync/repair", {"device": self.device, "t": table, "buckets": buckets}, report
            )
            wanted: list[str] = []
            gone: list[str] = []
            for b, server_rows in answer["rows"].items():
                theirs = {row_id: version for row_id, version in server_rows}
                local = dict(mine.get(int(b), []))
                wanted += [row_id for row_id, version in theirs.items() if local.get(row_id) != version]
                gone += [row_id for row_id in local if row_id not in theirs]
            rows: list[RowChange] = []
            for start in range(0, len(wanted), 500):
                got = await self._send(
                    "POST",
                    "/api/v1/sync/fetch",
                    {"device": self.device, "t": table, "ids": wanted[start : start + 500]},
                    report,
                )
                rows += got["changes"]
            with self.store.transaction():
                self.store.put_rows(
                    [(table, row_id, 0, None) for row_id in gone] + [(table, c[1], c[2], c[3]) for c in rows]
                )
            fixed += len(gone) + len(rows)
        return fixed


async def _first(task: asyncio.Task[Any], event: asyncio.Event) -> None:
    """Wait until ``event`` is set or ``task`` is done, whichever comes first."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


class _Transient(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
