"""Integrity of a phone's copy: per-table count and checksum, and a repair that fetches only what differs.

The checksum of a set of rows is the XOR of a 64-bit hash of each row's (table, id, version); the
phone computes the same over its rows, so equal digests mean equal sets of row versions. On a
mismatch the phone sends the digests of 64 buckets (by the hash's top bits); the server answers
the ``[id, version]`` list of only the buckets that differ, and the phone fetches only the rows it
lacks or holds at another version, and drops those the server no longer has for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from backend.core.accounts.permissions import Actor
from backend.lib.errors import ValidationFailed
from backend.runtime import Runtime
from backend.sync.pull import change_out, load_rows
from backend.sync.registry import Registry, SyncedTable
from backend.sync.schemas import ChangeOut, DigestOut
from backend.sync.state import versions

BUCKETS = 64


def row_hash(table: str, row_id: str, version: int) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{table}\x00{row_id}\x00{version}".encode(), digest_size=8).digest()
    )


def bucket_of(h: int) -> int:
    return h >> 58  # top 6 bits: 64 buckets


def digest_of(pairs: Iterable[tuple[str, int]], table: str) -> DigestOut:
    n = 0
    x = 0
    for row_id, version in pairs:
        n += 1
        x ^= row_hash(table, row_id, version)
    return DigestOut(n=n, x=f"{x:016x}")


async def scope_versions(rt: Runtime, table: SyncedTable, actor: Actor) -> dict[str, int]:
    ids = await table.ids_in_scope(rt, actor)
    marks = await versions(rt, table.name, ids)
    return {i: marks.get(i, 0) for i in ids}


async def digests(rt: Runtime, registry: Registry, actor: Actor) -> dict[str, DigestOut]:
    out = {}
    for table in registry:
        out[table.name] = digest_of((await scope_versions(rt, table, actor)).items(), table.name)
    return out


def _table(registry: Registry, name: str) -> SyncedTable:
    table = registry.get(name)
    if table is None:
        raise ValidationFailed([{"field": "t", "reason": f"unknown table {name}"}])
    return table


async def differing_buckets(
    rt: Runtime, registry: Registry, actor: Actor, name: str, theirs: dict[str, DigestOut]
) -> dict[str, list[tuple[str, int]]]:
    table = _table(registry, name)
    mine: dict[int, list[tuple[str, int]]] = {}
    for row_id, version in (await scope_versions(rt, table, actor)).items():
        mine.setdefault(bucket_of(row_hash(name, row_id, version)), []).append((row_id, version))
    out = {}
    for b in range(BUCKETS):
        rows = sorted(mine.get(b, []))
        if digest_of(rows, name) != theirs.get(str(b), DigestOut(n=0, x=f"{0:016x}")):
            out[str(b)] = rows
    return out


async def fetch(rt: Runtime, registry: Registry, actor: Actor, name: str, ids: list[str]) -> list[ChangeOut]:
    """Rows by id as they are now, or their removal if gone or out of the phone's scope."""
    table = _table(registry, name)
    rows = await load_rows(rt, table, ids)
    return [change_out(table, actor, row_id, rows.get(row_id)) for row_id in dict.fromkeys(ids)]
