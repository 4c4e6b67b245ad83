"""Scans: the rows of a whole scope (first login, reset) or of a scope's difference (grants changed).

A scan walks the synced tables in registration order and each table's ids in order, in byte-bounded
pages; the phone keeps the opaque token and sends it back for the next page, so a cut connection
costs at most one page. The high-water mark is read *before* the ids, so the rows a scan sends are
at least as new as that mark; after a full scan the phone's cursor is that mark and incremental
pulls deliver whatever changed since (some rows a second time, never one too few).

A *delta* scan (the official's grants changed) sends removals for rows visible under the old grants
but not the new, and the rows visible under the new grants but not the old. The phone keeps its
cursor; until it passes ``wide_until`` (the mark read after the last page's ids) its pulls also
read the old scope's areas, so a row it holds that moved away meanwhile is removed too."""

from __future__ import annotations

import base64
import bisect
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass

import msgspec

from backend.core.accounts.permissions import Actor
from backend.lib.errors import BadRequest
from backend.lib.recent import keep, recall
from backend.runtime import Runtime
from backend.sync.pull import encoded, page_rows, wire_change
from backend.sync.registry import Registry, Row
from backend.sync.schemas import ChangeOut
from backend.sync.state import change_tag, get_state, high_water

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


# The ids a scan walks, as listed for its first page, kept for its next pages (a first login of
# thousands of rows is dozens of pages). Listing them again per page would be just as correct — the
# mark was read before the ids, so anything created meanwhile comes with the incremental pull and
# anything deleted meanwhile is skipped when its row is loaded — only slower. Per process; a scan
# whose next page lands on another process lists them again.
_listed: OrderedDict[tuple[str, str, str, str, int, str], list[tuple[str, bool]]] = OrderedDict()
LISTED_KEPT = 16


async def start(rt: Runtime, kind: str, new: str, old: str = "", mark: int | None = None) -> ScanState:
    """A new scan; ``mark``: the high-water mark if the caller has just read it."""
    return ScanState(kind=kind, new=new, old=old, mark=await high_water(rt) if mark is None else mark)


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
    tables = registry.names
    changes: list[msgspec.Raw] = []
    used = 0
    # The server's history at the mark (a restored or emptied database may reuse its numbers).
    if history is None:
        history = f"{(await get_state(rt)).epoch}:{await change_tag(rt, state.mark)}"
    while state.table < len(tables):
        table = registry.get(tables[state.table])
        assert table is not None
        key = (history, state.kind, state.new, state.old, state.mark, tables[state.table])
        listed = recall(_listed, key)
        if listed is None:
            new_ids = set(await table.ids_in_scope(rt, actor))
            if state.kind == "delta" and old is not None:
                old_ids = set(await table.ids_in_scope(rt, old))
                listed = sorted(
                    [(i, False) for i in new_ids - old_ids] + [(i, True) for i in old_ids - new_ids]
                )
            else:
                listed = sorted((i, False) for i in new_ids)
            keep(_listed, key, listed, LISTED_KEPT)
        at = bisect.bisect_right(listed, (state.after, True)) if state.after else 0
        while at < len(listed):
            # Load about as many rows as the rest of the page holds, judged by the rows so far.
            fits = LOAD_CHUNK if not changes else -(-(max_bytes - used) * len(changes) // used) + 1
            chunk = listed[at : at + max(LOAD_MIN, min(fits, LOAD_MAX))]
            at += len(chunk)
            rows = await page_rows(rt, table, actor, [i for i, removed in chunk if not removed], fresh)
            for row_id, removed in chunk:
                if removed:
                    wire = encoded(ChangeOut(t=table.name, id=row_id, rm=True))
                else:
                    row = rows.get(row_id)
                    if row is None:
                        continue  # deleted since the ids were read; a pull will say so
                    wire = wire_change(table, actor, row_id, row)
                size = len(wire) + 1
                if changes and used + size > max_bytes:
                    return ScanPage(changes=changes, state=state, done=False, bytes=used)
                changes.append(wire)
                used += size
                state.after = row_id
        state.table += 1
        state.after = ""
    if state.kind == "delta":
        # Read after every id set of the scan: any row that left the old scope after its table's
        # ids were read did so in a change at or below this mark.
        state.wide_until = await high_water(rt)
    return ScanPage(changes=changes, state=state, done=True, bytes=used)
