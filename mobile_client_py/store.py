"""The phone's local store (SQLite): the server's rows, the mutation queue, blobs to upload.

``rows`` holds rows exactly as the server last sent them (the *base*); what the official sees is
the base with the still-unacknowledged mutations laid over it in order (:meth:`Store.view`), so a
change made while a sync runs is never overwritten by that sync — it simply stays on top.

Every checkpoint from the server (acknowledgements, rows, new cursor) is applied in one SQLite
transaction: a phone killed at any moment restarts from the last checkpoint it fully applied.
Acknowledged mutations stay in the journal (state ``acked``) so that, if the server turns out to
have lost them (restored from a backup), they can be sent again."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = [
    'CREATE TABLE IF NOT EXISTS meta ("key" TEXT PRIMARY KEY, "value" TEXT)',
    "CREATE TABLE IF NOT EXISTS rows (t TEXT NOT NULL, id TEXT NOT NULL, v INTEGER NOT NULL, data TEXT NOT NULL, "
    "seen INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (t, id))",
    "CREATE TABLE IF NOT EXISTS mutations (seq INTEGER PRIMARY KEY, t TEXT NOT NULL, op TEXT NOT NULL, "
    "id TEXT NOT NULL, v INTEGER NOT NULL, fields TEXT NOT NULL, base TEXT, state TEXT NOT NULL, "
    "answer TEXT, proto INTEGER NOT NULL DEFAULT 2)",
    "CREATE INDEX IF NOT EXISTS mutations_state ON mutations (state, seq)",
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, "
    "mime TEXT NOT NULL, offset INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL)",
]


# One change to a row as the server sent it: table, id, version, and the row's fields as JSON text
# (an object), or None when the row is removed.
RowChange = tuple[str, str, int, str | None]


def row_hash(table: str, row_id: str, version: int) -> int:
    """The same 64-bit row hash as the server's integrity check."""
    digest = hashlib.blake2b(f"{table}\x00{row_id}\x00{version}".encode(), digest_size=8).digest()
    return int.from_bytes(digest)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            self.db.execute(statement)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """All or nothing; an exception (or a kill) inside leaves the store as it was.

        ``durable=False`` commits without waiting for the flash to confirm (SQLite's ``NORMAL``
        sync in WAL mode), for what the server holds and would send again: a checkpoint. A power
        cut may then take back the last such commits, never part of one, and never one without
        the commits after it (the log is written in order and the next durable commit flushes it
        all), so the store is as a phone killed a little earlier would have left it — from which
        it resumes (mutations whose acknowledgement was taken back are sent again and recognised).
        The official's own work (the mutation queue) is always committed durably."""
        if not durable:
            self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        finally:
            if not durable:
                self.db.execute("PRAGMA synchronous=FULL")

    # -- meta ---------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute('SELECT "value" FROM meta WHERE "key" = ?', (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        self.db.execute('INSERT OR REPLACE INTO meta ("key", "value") VALUES (?, ?)', (key, _dumps(value)))

    def device_id(self) -> str:
        device = self.get("device")
        if device is None:
            device = f"d-{uuid.uuid4()}"
            with self.transaction():
                self.put("device", device)
        return str(device)

    # -- rows and their view ------------------------------------------------------------------

    def base(self, table: str, row_id: str) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute("SELECT v, data FROM rows WHERE t = ? AND id = ?", (table, row_id)).fetchone()
        return None if row is None else (int(row[0]), json.loads(row[1]))

    def base_rows(self, table: str) -> dict[str, tuple[int, dict[str, Any]]]:
        return {
            r[0]: (int(r[1]), json.loads(r[2]))
            for r in self.db.execute("SELECT id, v, data FROM rows WHERE t = ? ORDER BY id", (table,))
        }

    def put_row(self, table: str, row_id: str, version: int, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO rows (t, id, v, data, seen) VALUES (?, ?, ?, ?, 1)",
            (table, row_id, version, _dumps(data)),
        )

    def drop_row(self, table: str, row_id: str) -> None:
        self.db.execute("DELETE FROM rows WHERE t = ? AND id = ?", (table, row_id))

    def put_rows(self, changes: Iterable[RowChange]) -> None:
        """A checkpoint's rows, in the order the server sent them, in two statements instead of one
        per row (a full pull brings thousands). Each change replaces or removes its whole row, so
        only the last change of each row counts: keeping that one per (table, id) and writing
        upserts and removals apart leaves what applying them one by one would. The fields are
        stored as the JSON text they came in, never decoded and encoded again. Runs inside the
        caller's transaction."""
        last = {(c[0], c[1]): c for c in changes}
        self.db.executemany(
            "INSERT OR REPLACE INTO rows (t, id, v, data, seen) VALUES (?, ?, ?, ?, 1)",
            [c for c in last.values() if c[3] is not None],
        )
        self.db.executemany(
            "DELETE FROM rows WHERE t = ? AND id = ?", [key for key, c in last.items() if c[3] is None]
        )

    def pending(self, limit: int | None = None) -> list[dict[str, Any]]:
        return list(self.iter_pending(limit))

    def iter_pending(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Pending mutations in order, read as they are consumed (a request takes the first few
        hundred of a queue that may hold thousands)."""
        sql = "SELECT seq, t, op, id, v, fields, base, proto FROM mutations WHERE state = 'pending' ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for r in self.db.execute(sql).fetchall():
            yield {
                "seq": r[0],
                "t": r[1],
                "op": r[2],
                "id": r[3],
                "v": r[4],
                "fields": json.loads(r[5]),
                "base": None if r[6] is None else json.loads(r[6]),
                "proto": r[7],
            }

    def pending_seqs(self) -> list[int]:
        return [
            r[0] for r in self.db.execute("SELECT seq FROM mutations WHERE state = 'pending' ORDER BY seq")
        ]

    def view(self, table: str) -> dict[str, dict[str, Any]]:
        """What the official sees: base rows with pending mutations applied in order."""
        rows = {row_id: dict(data) for row_id, (_, data) in self.base_rows(table).items()}
        for m in self.pending():
            if m["t"] != table:
                continue
            if m["op"] == "c":
                rows[m["id"]] = dict(m["fields"])
            elif m["op"] == "u" and m["id"] in rows:
                rows[m["id"]].update(m["fields"])
            elif m["op"] == "d":
                rows.pop(m["id"], None)
        return rows

    def view_row(self, table: str, row_id: str) -> dict[str, Any] | None:
        return self.view(table).get(row_id)

    # -- the mutation queue -------------------------------------------------------------------

    def enqueue(
        self,
        table: str,
        op: str,
        row_id: str,
        fields: dict[str, Any],
        base: dict[str, Any] | None,
        version: int,
        proto: int = 2,
    ) -> int:
        with self.transaction():
            seq = int(self.get("next_seq", 1))
            self.db.execute(
                "INSERT INTO mutations (seq, t, op, id, v, fields, base, state, proto) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    seq,
                    table,
                    op,
                    row_id,
                    version,
                    _dumps(fields),
                    None if base is None else _dumps(base),
                    proto,
                ),
            )
            self.put("next_seq", seq + 1)
        return seq

    def mutation(self, seq: int) -> dict[str, Any] | None:
        r = self.db.execute(
            "SELECT seq, t, op, id, fields, state, answer FROM mutations WHERE seq = ?", (seq,)
        ).fetchone()
        if r is None:
            return None
        return {
            "seq": r[0],
            "t": r[1],
            "op": r[2],
            "id": r[3],
            "fields": json.loads(r[4]),
            "state": r[5],
            "answer": None if r[6] is None else json.loads(r[6]),
        }

    def mutations(self, state: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq FROM mutations" + (" WHERE state = ?" if state else "") + " ORDER BY seq"
        seqs = [r[0] for r in self.db.execute(sql, (state,) if state else ())]
        return [m for m in (self.mutation(s) for s in seqs) if m is not None]

    def set_mutation(self, seq: int, state: str, answer: dict[str, Any] | None) -> None:
        self.db.execute(
            "UPDATE mutations SET state = ?, answer = ? WHERE seq = ?",
            (state, None if answer is None else _dumps(answer), seq),
        )

    def requeue_after(self, device_seq: int) -> int:
        """The server has lost mutations after ``device_seq`` (restored from a backup): send them again."""
        cursor = self.db.execute(
            "UPDATE mutations SET state = 'pending', answer = NULL WHERE state = 'acked' AND seq > ?",
            (device_seq,),
        )
        return cursor.rowcount

    def max_acked(self) -> int:
        row = self.db.execute("SELECT max(seq) FROM mutations WHERE state != 'pending'").fetchone()
        return int(row[0] or 0)

    # -- integrity ----------------------------------------------------------------------------

    def digest(self, table: str) -> dict[str, Any]:
        n, x = 0, 0
        for row_id, (version, _) in self.base_rows(table).items():
            n += 1
            x ^= row_hash(table, row_id, version)
        return {"n": n, "x": f"{x:016x}"}

    def buckets(self, table: str) -> dict[int, list[tuple[str, int]]]:
        out: dict[int, list[tuple[str, int]]] = {}
        for row_id, (version, _) in self.base_rows(table).items():
            out.setdefault(row_hash(table, row_id, version) >> 58, []).append((row_id, version))
        return out
