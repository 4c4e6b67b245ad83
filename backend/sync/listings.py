"""Listings: the ids a scan walks in one table, kept for its next pages, and for a shared table the
changes a snapshot encoded, kept for the next phones of its scope."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import msgspec

from backend.core.accounts.permissions import Actor
from backend.lib.recent import keep, recall
from backend.runtime import Runtime
from backend.sync.pull import encoded, page_rows, wire_change
from backend.sync.registry import Row, SyncedTable
from backend.sync.schemas import ChangeOut

ListingKey = tuple[str, str, str, str, int, str]  # history, kind, new scope, old scope, mark, table


@dataclass
class Listing:
    """The ids a scan walks in one table, as listed for its first page, kept for its next pages (a
    first login of thousands of rows is dozens of pages). Listing them again per page would be just
    as correct — the mark was read before the ids, so anything created meanwhile comes with the
    incremental pull and anything deleted meanwhile is skipped when its row is loaded — only slower.

    For a table whose rows look the same to every account with the same grants
    (:attr:`~backend.sync.registry.SyncedTable.shared`), a snapshot also keeps the changes it
    encoded, in the ids' order (None: the row was gone): the next phone of that scope, starting
    from the same mark (:func:`~backend.sync.scans.start_snapshot`), gets its pages without
    reading the rows again."""

    ids: list[tuple[str, bool]]
    wires: list[msgspec.Raw | None] | None = None  # None: not kept for this listing
    kept: int = 0  # bytes in ``wires``


# Per process; a scan whose next page lands on another process lists (and encodes) again.
_listed: OrderedDict[ListingKey, Listing] = OrderedDict()
LISTED_KEPT = 16
SHARED_MAX = 4 * 1024 * 1024  # encoded bytes kept per listing (a commune's notices are well below)
# Rows of a shared table a snapshot frames in one statement (``SyncedTable.framed_in_scope``): about
# SHARED_MAX of notices; a wider scope lists its ids and loads them page by page.
FRAMED_MAX = 10_000


async def listing(
    rt: Runtime,
    key: ListingKey,
    table: SyncedTable,
    actor: Actor,
    old: Actor | None,
    fresh: list[tuple[str, Row]] | None,
) -> Listing:
    """The table's listing for the scan ``key`` names, kept or made now."""
    found = recall(_listed, key)
    if found is None:
        found = await _list(rt, table, actor, key[1], old, fresh)
        keep(_listed, key, found, LISTED_KEPT)
    return found


async def _list(
    rt: Runtime,
    table: SyncedTable,
    actor: Actor,
    kind: str,
    old: Actor | None,
    fresh: list[tuple[str, Row]] | None,
) -> Listing:
    """A table's listing for a scan; a shared table's snapshot comes with its changes encoded
    when the table frames a whole scope in one statement (and it is not too big to keep)."""
    shared = kind == "snapshot" and table.shared
    if shared and table.framed_in_scope is not None:
        framed = await table.framed_in_scope(rt, actor, FRAMED_MAX)
        if framed is not None:
            framed.sort(key=lambda item: item[0])  # the order the pages' positions are looked up in
            ids = [(i, False) for i, _ in framed]
            wires = [None if f is None else msgspec.Raw(f) for _, f in framed]
            unkept = [k for k, (_, f) in enumerate(framed) if f is None]
            if unkept:
                loaded = await encode_rows(rt, table, actor, [ids[k] for k in unkept], fresh)
                for k, wire in zip(unkept, loaded, strict=True):
                    wires[k] = wire
            size = sum(len(w) for w in wires if w is not None)
            return Listing(ids, wires, size) if size <= SHARED_MAX else Listing(ids, [])
    new_ids = set(await table.ids_in_scope(rt, actor))
    if kind == "delta" and old is not None:
        old_ids = set(await table.ids_in_scope(rt, old))
        ids = sorted([(i, False) for i in new_ids - old_ids] + [(i, True) for i in old_ids - new_ids])
    else:
        ids = sorted((i, False) for i in new_ids)
    return Listing(ids, [] if shared else None)


def listed_rows(history: str, token: str, mark: int) -> int:
    """Rows the snapshot of this scope at this mark has listed, as far as its listings are kept."""
    return sum(
        len(listing.ids)
        for (at, kind, new, _, listed_mark, _), listing in _listed.items()
        if (at, kind, new, listed_mark) == (history, "snapshot", token, mark)
    )


async def encode_rows(
    rt: Runtime,
    table: SyncedTable,
    actor: Actor,
    chunk: list[tuple[str, bool]],
    fresh: list[tuple[str, Row]] | None,
) -> list[msgspec.Raw | None]:
    """Each listed id's change: a removal, the row as it is now, or None if it is gone."""
    rows = await page_rows(rt, table, actor, [i for i, removed in chunk if not removed], fresh)
    wires: list[msgspec.Raw | None] = []
    for row_id, removed in chunk:
        if removed:
            wires.append(encoded(ChangeOut(t=table.name, id=row_id, rm=True)))
            continue
        row = rows.get(row_id)
        wires.append(None if row is None else wire_change(table, actor, row_id, row))
    return wires


def keep_wires(listing: Listing, at: int, wires: list[msgspec.Raw | None]) -> None:
    """Keep a chunk's changes for the scope's next phones if they continue what is kept."""
    if listing.wires is None or len(listing.wires) != at:
        return
    size = sum(len(w) for w in wires if w is not None)
    if listing.kept + size > SHARED_MAX:
        return
    listing.wires.extend(wires)
    listing.kept += size
