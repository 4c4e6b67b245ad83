"""Scans: the rows of a whole scope (first login, reset) or of a scope's difference (grants changed).

A scan walks the synced tables in registration order and each table's ids in order, in byte-bounded
pages; the phone keeps the opaque token and sends it back for the next page, so a cut connection
costs at most one page. The high-water mark is read *before* the ids, so the rows a scan sends are
at least as new as that mark; after a full scan the phone's cursor is that mark and incremental
pulls deliver whatever changed since (some rows a second time, never one too few).

That holds for any mark read before the ids, so the phones of one scope may share one: a first
login shortly after another of the same scope starts from its mark (:func:`start_snapshot`) and is
sent the rows, and whole pages, that snapshot already encoded and compressed.

A *delta* scan (the official's grants changed) sends removals for rows visible under the old grants
but not the new, and the rows visible under the new grants but not the old. The phone keeps its
cursor; until it passes ``wide_until`` (the mark read after the last page's ids) its pulls also
read the old scope's areas, so a row it holds that moved away meanwhile is removed too."""

from __future__ import annotations

import base64
import bisect
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import msgspec

from backend.core.accounts.permissions import Actor
from backend.lib.errors import BadRequest
from backend.lib.gzip_parts import Deflated, deflate
from backend.lib.recent import keep, recall
from backend.runtime import Runtime
from backend.sync import listings
from backend.sync.registry import Registry, Row
from backend.sync.state import Snapshot, change_tag, get_state, high_water

# Rows loaded at a time: first LOAD_CHUNK (a 64 KB page holds about a hundred notices), then about as
# many as the rest of the page holds, within LOAD_MIN..LOAD_MAX (a 1 MB page holds ~1,800 notices).
LOAD_CHUNK = 64
LOAD_MIN = 16
LOAD_MAX = 500


@dataclass
class ScanState:
    kind: str  # snapshot | delta
    new: str  # scope token scanned for
    old: str = ""  # delta: the scope token the phone's rows belong to
    mark: int = 0  # high-water mark read before the first ids
    wide_until: int = 0  # delta: high-water mark read after the first ids
    table: int = 0  # position: table index ...
    after: str = ""  # ... and the last id sent in it

    def encode(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> ScanState:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise BadRequest("bad_scan", details={"field": "scan", "reason": "not a scan token"}) from exc


@dataclass
class ScanPage:
    changes: list[msgspec.Raw]  # encoded ChangeOut
    state: ScanState
    done: bool
    bytes: int
    packed: Deflated | None = None  # the changes, comma-joined and compressed, for a shared page


# Whole pages of shared snapshots (every change from a shared listing), compressed once, by where
# they start and the page size asked for: the phones of one scope ask for the same pages.
_pages: OrderedDict[tuple[str, str, int, int, str, int], ScanPage] = OrderedDict()
PAGES_KEPT = 32  # pages of at most KENG_SYNC_MAX_PAGE_BYTES: 32 MB at worst, a few MB as phones ask

# A snapshot is reused only while at most this many changes (anywhere) came after its mark: the
# phone pulls them right after the snapshot, some of its rows a second time.
REUSE_TAIL = 1000
# The latest snapshot started for each scope token: its mark, the history at that mark, and when.
_started: OrderedDict[str, tuple[int, str, datetime]] = OrderedDict()


async def start(rt: Runtime, kind: str, new: str, old: str = "", mark: int | None = None) -> ScanState:
    """A new scan; ``mark``: the high-water mark if the caller has just read it."""
    return ScanState(kind=kind, new=new, old=old, mark=await high_water(rt) if mark is None else mark)


def _recent(rt: Runtime, token: str) -> tuple[int, str] | None:
    """The mark and history of this scope's last snapshot, if within ``sync_snapshot_reuse_s``."""
    started = recall(_started, token)
    if started is None or (rt.clock.now() - started[2]).total_seconds() > rt.settings.sync_snapshot_reuse_s:
        return None
    return started[0], started[1]


def reusable_mark(rt: Runtime, token: str) -> int:
    """The mark a new snapshot of this scope could start from (0: none recent enough); its
    history is checked by :func:`start_snapshot`, so the caller reads the tag at it."""
    recent = _recent(rt, token)
    return recent[0] if recent is not None else 0


async def start_snapshot(rt: Runtime, token: str, known: Snapshot | None) -> ScanState:
    """A first login's scan. Within ``sync_snapshot_reuse_s`` of the last snapshot of the same
    scope it starts from that snapshot's mark, not the newest, if few changes came after it (at most
    ``REUSE_TAIL``, and at most a tenth of the rows it listed): the rows it sends are at least as
    new as the mark either way, and the incremental pull from the mark brings what changed since —
    but it walks the listings that snapshot left, shared tables' encoded changes included. The mark
    is taken only if the server's history there is unchanged and above the tombstone floor."""
    recent = _recent(rt, token)
    if known is not None and recent is not None:
        mark, history = recent
        if (
            mark > 0
            and known.top - mark <= min(REUSE_TAIL, listings.listed_rows(history, token, mark) // 10)
            and known.state.floor <= mark
            and known.history(mark) == history
        ):
            return ScanState(kind="snapshot", new=token, mark=mark)
    state = await start(rt, "snapshot", token, mark=known.top if known is not None else None)
    history = known.history(state.mark) if known is not None else None
    if history is not None:
        keep(_started, token, (state.mark, history, rt.clock.now()), listings.LISTED_KEPT)
    return state


async def page(
    rt: Runtime,
    registry: Registry,
    actor: Actor,
    state: ScanState,
    max_bytes: int,
    old: Actor | None = None,
    history: str | None = None,
    fresh: list[tuple[str, Row]] | None = None,
) -> ScanPage:
    """The next page of a scan. ``history``: ``"<epoch>:<tag at the mark>"`` if the caller read it;
    ``fresh``: collects the rows encoded afresh (:func:`~backend.sync.pull.page_rows`)."""
    # The server's history at the mark (a restored or emptied database may reuse its numbers).
    if history is None:
        history = f"{(await get_state(rt)).epoch}:{await change_tag(rt, state.mark)}"
    start = (history, state.new, state.mark, state.table, state.after, max_bytes)
    if state.kind == "snapshot":
        kept = recall(_pages, start)
        if kept is not None:
            return _copy(kept)
    tables = registry.names
    changes: list[msgspec.Raw] = []
    used = 0
    shared = state.kind == "snapshot"  # so far, every change of the page from a shared listing
    while state.table < len(tables):
        table = registry.get(tables[state.table])
        assert table is not None
        key = (history, state.kind, state.new, state.old, state.mark, tables[state.table])
        listing = await listings.listing(rt, key, table, actor, old, fresh)
        listed = listing.ids
        shared = shared and listing.wires is not None
        at = bisect.bisect_right(listed, (state.after, True)) if state.after else 0
        while at < len(listed):
            if listing.wires is not None and at < len(listing.wires):
                # Encoded for an earlier phone of this scope: as many as the page may hold.
                wires = listing.wires[at : at + LOAD_MAX]
            else:
                # Load about as many rows as the rest of the page holds, judged by the rows so far.
                fits = LOAD_CHUNK if not changes else -(-(max_bytes - used) * len(changes) // used) + 1
                chunk = listed[at : at + max(LOAD_MIN, min(fits, LOAD_MAX))]
                wires = await listings.encode_rows(rt, table, actor, chunk, fresh)
                listings.keep_wires(listing, at, wires)
            for (row_id, _), wire in zip(listed[at : at + len(wires)], wires, strict=True):
                at += 1
                if wire is None:
                    continue  # deleted since the ids were read; a pull will say so
                size = len(wire) + 1
                if changes and used + size > max_bytes:
                    return _finish(
                        start, ScanPage(changes=changes, state=state, done=False, bytes=used), shared
                    )
                changes.append(wire)
                used += size
                state.after = row_id
        state.table += 1
        state.after = ""
    if state.kind == "delta":
        # Read after every id set of the scan: any row that left the old scope after its table's
        # ids were read did so in a change at or below this mark.
        state.wide_until = await high_water(rt)
    return _finish(start, ScanPage(changes=changes, state=state, done=True, bytes=used), shared)


def _finish(start: tuple[str, str, int, int, str, int], page: ScanPage, shared: bool) -> ScanPage:
    """Keep a page made of shared listings only, compressed, for the scope's next phones."""
    if shared and page.changes:
        page.packed = deflate(b",".join(page.changes))
        keep(_pages, start, _copy(page), PAGES_KEPT)
    return page


def _copy(page: ScanPage) -> ScanPage:
    """A kept page with its own end position: the caller's scan state goes on moving."""
    return replace(page, state=replace(page.state))
