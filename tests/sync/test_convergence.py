"""Property tests of the sync protocol (REFERENCE §6, properties 1, 2, 3, 5, 6, 7, 12, 13).

Several phones (the reference client over the fault-injecting transport) work offline on notice
drafts — create, edit, discard, resolve conflicts — while the office edits and submits drafts on the
web and officials are moved between communes. Phones sync through dropped requests, answers lost
after the server committed, duplicates, late reordered copies, truncated answers, requests cut at a
byte, delays, whole syncs that fail, and server restarts. Hypothesis picks the sequence.

After every sync a model replays what the server's ledger says it applied, in order, from the state
before the sync, and predicts each mutation's outcome (applied or rejected and why), each field's
value after the per-field merge, and exactly which same-field conflicts were recorded; the server
must agree. After healing (every phone syncs without faults) every replica must equal the server's
view of its scope, every mutation must have been applied exactly once (ledger, audit) or rejected,
nothing acknowledged lost, and no deleted draft resurrected anywhere.

A second test runs concurrent writers against a reader pulling all along (property 2): creates
whose transactions commit out of order must all reach the reader, so its cursor never jumped over a
change that committed after a higher one. On SQLite writers are serialised anyway; on PostgreSQL
they really interleave."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from backend.core.accounts.permissions import Role, within
from backend.core.accounts.services import ClientInfo, actor_for_account
from backend.core.accounts.tables import RoleGrant
from backend.core.audit.tables import AuditEntry
from backend.core.changes.services import record_change
from backend.core.notices.tables import Notice
from backend.lib.db import json_column
from backend.sync.pull import change_out, load_rows
from backend.sync.state import high_water
from backend.sync.tables import SyncConflict, SyncDevice, SyncMutation
from mobile_client_py.offline import Backoff, OfflineOfficial, SyncFailed
from tests.factories import User, notice_body
from tests.sync.helpers import draft, phone
from tests.sync.world import World

PATHS = {
    "38001": "/VN/38/38001/",
    "38001-01": "/VN/38/38001/38001-01/",
    "38001-02": "/VN/38/38001/38001-02/",
    "38002": "/VN/38/38002/",
    "38002-01": "/VN/38/38002/38002-01/",
}
COMMUNE_AREAS = {"38001": ["38001", "38001-01", "38001-02"], "38002": ["38002", "38002-01"]}
TITLES = ["Tiêm chủng", "Họp dân", "Thu thuế", "Phòng cháy", "Lịch cắt điện"]
BODIES = ["Sáng thứ Bảy tại nhà văn hoá.", "Chiều Chủ nhật tại trạm y tế xã.", "Cả tuần, mọi thôn."]
PRIORITIES = ["normal", "priority", "emergency"]
EDITABLE = ("title", "body", "priority", "targets")
FAULTS = st.one_of(
    st.sampled_from(["ok", "drop_request", "drop_response", "duplicate", "duplicate_concurrent", "reorder"]),
    st.sampled_from(["truncate", "delay"]),
    st.tuples(st.sampled_from(["cut_request", "cut_response"]), st.integers(min_value=0, max_value=400)),
)
HARD_FAULTS = st.one_of(
    st.sampled_from(["drop_request", "drop_response", "truncate"]),
    st.tuples(st.just("cut_request"), st.integers(min_value=0, max_value=400)),
)


# ------------------------------------------------------------------------------------------------
# What the server holds, and what it should do with a phone's mutations


@dataclass
class NoticeState:
    status: str
    owner_path: str
    values: dict[str, Any]  # title, body, priority, targets (a sorted list of codes)
    version: int  # -1: changed during the step (newer than anything a phone saw)


@dataclass
class ServerView:
    notices: dict[str, NoticeState]
    tombstoned: set[str]
    conflicts: dict[str, dict[str, Any]]
    grants: list[str]  # the phone's official's commune paths


@dataclass
class Expectation:
    status: str  # applied | rejected
    codes: tuple[str, ...] = ()  # allowed rejection codes
    conflicts: set[str] = field(default_factory=set)  # fields
    predicted: bool = True  # False: outcome not predicted (an unusual path), only checked loosely


def same(field_name: str, a: Any, b: Any) -> bool:
    if field_name == "targets":
        return sorted(a or []) == sorted(b or [])
    return a == b


def settle(field_name: str, base: Any, server: Any, client: Any) -> Any:
    """The per-field rules of notices (openapi/sync-protocol.md §2.2), written independently."""
    if field_name in ("title", "body"):
        return client
    if field_name == "priority":
        return max(server, client, key=PRIORITIES.index)
    if field_name == "targets":
        removed = set(base or []) - set(client)
        added = set(client) - set(base or [])
        return sorted((set(server) - removed) | added)
    raise AssertionError(field_name)


def expect(view: ServerView, m: dict[str, Any], base: dict[str, Any] | None) -> Expectation:
    """Predict one mutation against the server state; advances ``view`` like the server would."""
    grants = view.grants
    if m["t"] == "conflict":
        return expect_resolution(view, m)
    assert m["t"] == "notice"
    row = view.notices.get(m["id"])
    f = m["fields"]
    if m["op"] == "c":
        targets = f["targets"]
        owners = [g for g in grants if all(within(PATHS[t], g) for t in targets)]
        if not owners:
            return Expectation("rejected", ("out_of_area", "forbidden"))
        view.notices[m["id"]] = NoticeState(
            "draft",
            max(owners, key=len),
            {"title": f["title"], "body": f["body"], "priority": f["priority"], "targets": sorted(targets)},
            -1,
        )
        return Expectation("applied")
    if row is None:
        if m["id"] in view.tombstoned:
            return Expectation("applied") if m["op"] == "d" else Expectation("rejected", ("row_deleted",))
        return Expectation("rejected", ("not_found",))
    if not any(within(row.owner_path, g) for g in grants) and row.status != "published":
        return Expectation("rejected", ("out_of_scope",))
    if row.status != "draft" and m["op"] == "d":
        return Expectation("rejected", ("invalid_state",))
    if m["op"] == "d":
        conflicts = {"*"} if m["v"] and m["v"] != row.version else set()
        del view.notices[m["id"]]
        view.tombstoned.add(m["id"])
        return Expectation("applied", conflicts=conflicts)
    new = dict(row.values)
    conflicts = set()
    for name, client in f.items():
        server, seen = row.values[name], (base or {}).get(name)
        if same(name, client, server):
            continue
        if same(name, seen, server):
            new[name] = client
        elif same(name, seen, client):
            continue
        else:
            conflicts.add(name)
            new[name] = settle(name, seen, server, client)
    if all(same(k, new[k], row.values[k]) for k in new):
        # Nothing to write (a rule kept the server's values): the domain is not asked, the
        # conflicts are recorded all the same.
        return Expectation("applied", conflicts=conflicts)
    if row.status != "draft":
        return Expectation("rejected", ("invalid_state",))
    if not all(within(PATHS[t], row.owner_path) for t in new["targets"]) or not new["targets"]:
        return Expectation("rejected", ("validation_failed", "forbidden", "out_of_area"))
    row.values = new
    row.version = -1
    return Expectation("applied", conflicts=conflicts)


def expect_resolution(view: ServerView, m: dict[str, Any]) -> Expectation:
    conflict = view.conflicts.get(m["id"])
    if conflict is None or conflict["status"] != "open":
        return Expectation("rejected", ("out_of_scope", "not_found"))
    row_paths = conflict["paths"]
    if not any(within(p, g) for p in row_paths for g in view.grants):
        return Expectation("rejected", ("out_of_scope",))
    resolution = m["fields"].get("resolution")
    if resolution != "restore":
        conflict["status"] = "resolved"
        return Expectation("applied")
    # Restoring writes the losing value back through the notice's own rules: not predicted in
    # detail here (the loose checks and the final convergence still hold it to account).
    return Expectation(
        "applied", ("not_found", "invalid_state", "validation_failed", "forbidden"), predicted=False
    )


# ------------------------------------------------------------------------------------------------
# Reading the server


async def server_view(world: World, user: User) -> ServerView:
    rt = world.rt
    table = rt.sync_tables.get("notice")
    assert table is not None
    ids = [str(r["id"]) for r in await Notice.select(Notice.id)]
    rows = await load_rows(rt, table, ids)
    notices = {
        i: NoticeState(
            status=r.data["status"],
            owner_path=r.raw[0]["owner_path"],
            values={
                "title": r.data["title"],
                "body": r.data["body"],
                "priority": r.data["priority"],
                "targets": sorted(r.data["targets"]),
            },
            version=r.version,
        )
        for i, r in rows.items()
    }
    tombstoned = {
        r["row_id"]
        for r in await rt.db.fetch(
            'SELECT DISTINCT "row_id" FROM "change_log" WHERE "table_name" = \'notice\' AND "op" = \'delete\''
        )
    }
    conflicts = {
        str(c["id"]): {"status": c["status"], "paths": json_column(c["area_paths"], [])}
        for c in await SyncConflict.select()
    }
    grants = [
        r["area.path"]
        for r in await RoleGrant.select(RoleGrant.area.path).where(RoleGrant.account == user.id)
    ]
    return ServerView(notices=notices, tombstoned=tombstoned, conflicts=conflicts, grants=grants)


async def ledger(world: World, device: str, after: int) -> list[dict[str, Any]]:
    return await (
        SyncMutation.select()
        .where((SyncMutation.device_id == device) & (SyncMutation.seq > after))
        .order_by(SyncMutation.seq)
    )


async def scope_rows(world: World, user: User) -> dict[str, dict[str, tuple[int, dict[str, Any]]]]:
    """What a phone of this official should hold: every synced table's rows in its scope, as a
    pull would send them."""
    rt = world.rt
    actor = await actor_for_account(rt, user.id, ClientInfo(addr="test", request_id="check"))
    out: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
    for table in rt.sync_tables:
        ids = await table.ids_in_scope(rt, actor)
        rows = await load_rows(rt, table, ids)
        held = {}
        for row_id in ids:
            change = change_out(table, actor, row_id, rows.get(row_id))
            if not change.rm:
                held[row_id] = (change.v, change.f or {})
        out[table.name] = held
    return out


# ------------------------------------------------------------------------------------------------
# The state machine


@dataclass
class Phone:
    name: str
    user: User
    official: OfflineOfficial
    checked: int = 0  # ledger checked up to this sequence


class Convergence(RuleBasedStateMachine):
    world: World  # set by the test

    @initialize()
    def setup(self) -> None:
        w = self.world
        w.fresh()
        self.run = w.run

        async def people() -> None:
            await w.factory.tree()
            self.a1 = await w.factory.user((Role.COMMUNE_OFFICIAL, "38001"))
            self.a2 = await w.factory.user((Role.COMMUNE_OFFICIAL, "38001"))
            self.b = await w.factory.user((Role.COMMUNE_OFFICIAL, "38002"))
            self.office = await w.factory.user(
                (Role.COMMUNE_OFFICIAL, "38001"), (Role.COMMUNE_OFFICIAL, "38002")
            )

        self.run(people())

        async def office_drafts() -> None:
            assert w.http is not None
            for i, areas in enumerate(
                [["38001"], ["38001-01"], ["38001", "38001-02"], ["38002"], ["38002-01"]]
            ):
                body = notice_body(
                    target_areas=areas, texts={"vi": {"title": TITLES[i], "body": BODIES[i % len(BODIES)]}}
                )
                answer = await w.http.post("/api/v1/notices", json=body, headers=self.office.headers)
                assert answer.status_code == 201, answer.text

        self.run(office_drafts())
        tmp = w.tmpdir()
        self.phones = [
            Phone("a1", self.a1, phone(w.app, tmp / "a1.db", self.a1)),
            Phone("a1b", self.a1, phone(w.app, tmp / "a1b.db", self.a1)),
            Phone("a2", self.a2, phone(w.app, tmp / "a2.db", self.a2)),
            Phone("b", self.b, phone(w.app, tmp / "b.db", self.b)),
        ]
        self.communes = {self.a1.id: ["38001"], self.a2.id: ["38001"], self.b.id: ["38002"]}
        self.deleted: set[str] = set()
        self.created: set[str] = set()
        self.conflicts_seen = 0
        self.stats: Counter[str] = Counter()
        for p in self.phones:
            self.run(p.official.sync())

    # -- the steps (two rules of each kind of work: officials work more than networks fail) --------

    @rule(data=st.data())
    def phone_work(self, data: st.DataObject) -> None:
        self._work(data)

    @rule(data=st.data())
    def more_phone_work(self, data: st.DataObject) -> None:
        self._work(data)

    def _work(self, data: st.DataObject) -> None:
        which = data.draw(st.integers(0, 3), label="phone")
        kind = data.draw(
            st.sampled_from(["create", "edit", "edit", "edit", "discard", "resolve"]), label="work"
        )
        if kind == "create":
            self.create(
                which,
                data.draw(st.sampled_from(TITLES), label="title"),
                data.draw(st.sampled_from(PRIORITIES), label="priority"),
                data.draw(st.sampled_from([True, True, True, False]), label="home"),
                data.draw(st.sets(st.integers(0, 2), min_size=1, max_size=3), label="picks"),
            )
        elif kind == "edit":
            self.edit(
                which,
                data.draw(st.integers(0, 50), label="pick"),
                data.draw(st.sampled_from(EDITABLE), label="field"),
                data.draw(st.integers(0, 10), label="value"),
            )
        elif kind == "discard":
            self.discard(which, data.draw(st.integers(0, 50), label="pick"))
        else:
            self.resolve(which, data.draw(st.integers(0, 50), label="pick"), data.draw(st.booleans()))

    @rule(
        pick=st.integers(0, 50),
        name=st.sampled_from(EDITABLE),
        value=st.integers(0, 10),
        submit=st.integers(0, 4),
    )
    def office_work(self, pick: int, name: str, value: int, submit: int) -> None:
        if submit == 0:
            self.office_submit(pick)
        else:
            self.office_edit(pick, name, value)

    @rule(which=st.integers(0, 3), faults=st.lists(FAULTS, max_size=5))
    def sync(self, which: int, faults: list[Any]) -> None:
        self._sync(self.phones[which], faults, attempts=30)

    @rule(which=st.integers(0, 3), faults=st.lists(FAULTS, max_size=5))
    def sync_again(self, which: int, faults: list[Any]) -> None:
        self._sync(self.phones[which], faults, attempts=30)

    @rule(data=st.data())
    def trouble(self, data: st.DataObject) -> None:
        """Now and then: a sync that never gets through, a server restart, an official moved."""
        kind = data.draw(st.sampled_from(["fails", "fails", "restart", "move"]), label="trouble")
        if kind == "fails":
            self.sync_fails(
                data.draw(st.integers(0, 3), label="phone"), data.draw(HARD_FAULTS, label="fault")
            )
        elif kind == "restart":
            self.restart()
        else:
            self.move(data.draw(st.sampled_from(["a2", "b"]), label="who"))

    # -- working offline -------------------------------------------------------------------------

    def _drafts(self, p: Phone) -> list[str]:
        return sorted(p.official.rows("notice"))

    def create(self, which: int, title: str, priority: str, home: bool, picks: set[int]) -> None:
        p = self.phones[which]
        communes = self.communes[p.user.id] if home else ["38001", "38002"]
        areas = COMMUNE_AREAS[communes[min(picks) % len(communes)]]
        targets = sorted({areas[i % len(areas)] for i in picks})
        p.official.create("notice", draft(title=title, body=BODIES[0], priority=priority, targets=targets))
        self.stats["create"] += 1

    def edit(self, which: int, pick: int, name: str, value: int) -> None:
        p = self.phones[which]
        rows = self._drafts(p)
        if not rows:
            return
        row_id = rows[pick % len(rows)]
        row = p.official.rows("notice")[row_id]
        if name == "title":
            new: Any = TITLES[value % len(TITLES)]
        elif name == "body":
            new = BODIES[value % len(BODIES)]
        elif name == "priority":
            new = PRIORITIES[value % len(PRIORITIES)]
        else:
            owner = row.get("owner") or (row["targets"][0][:5] if row.get("targets") else "38001")
            areas = COMMUNE_AREAS.get(owner[:5], COMMUNE_AREAS["38001"])
            chosen = {areas[value % len(areas)], areas[(value // 3) % len(areas)]}
            new = sorted(chosen)
        p.official.update("notice", row_id, {name: new})
        self.stats["edit"] += 1

    def discard(self, which: int, pick: int) -> None:
        p = self.phones[which]
        rows = self._drafts(p)
        if rows:
            p.official.delete("notice", rows[pick % len(rows)])
            self.stats["discard"] += 1

    def resolve(self, which: int, pick: int, restore: bool) -> None:
        p = self.phones[which]
        open_ = sorted(p.official.conflicts())
        if open_:
            p.official.resolve(open_[pick % len(open_)], "restore" if restore else "keep")
            self.stats["resolve"] += 1

    # -- the office on the web -------------------------------------------------------------------

    def _server_drafts(self) -> list[str]:
        return sorted(
            str(r["id"]) for r in self.run(Notice.select(Notice.id).where(Notice.status == "draft"))
        )

    def office_edit(self, pick: int, name: str, value: int) -> None:
        drafts = self._server_drafts()
        if not drafts:
            return
        notice_id = drafts[pick % len(drafts)]

        async def go() -> None:
            http = self.world.http
            assert http is not None
            current = (await http.get(f"/api/v1/notices/{notice_id}", headers=self.office.headers)).json()
            patch: dict[str, Any] = {"row_version": current["row_version"]}
            vi = dict(current["texts"]["vi"])
            if name == "title":
                vi["title"] = TITLES[(value + 1) % len(TITLES)]
                patch["texts"] = {**current["texts"], "vi": vi}
            elif name == "body":
                vi["body"] = BODIES[(value + 2) % len(BODIES)]
                patch["texts"] = {**current["texts"], "vi": vi}
            elif name == "priority":
                patch["priority"] = PRIORITIES[value % len(PRIORITIES)]
            else:
                areas = COMMUNE_AREAS[current["owner_area"]]
                patch["target_areas"] = sorted({areas[value % len(areas)], areas[0]})
            answer = await http.patch(f"/api/v1/notices/{notice_id}", json=patch, headers=self.office.headers)
            assert answer.status_code == 200, answer.text

        self.run(go())
        self.stats["office_edit"] += 1

    def office_submit(self, pick: int) -> None:
        drafts = self._server_drafts()
        if not drafts:
            return
        notice_id = drafts[pick % len(drafts)]

        async def go() -> None:
            http = self.world.http
            assert http is not None
            answer = await http.post(
                f"/api/v1/notices/{notice_id}/submit", json={}, headers=self.office.headers
            )
            assert answer.status_code == 200, answer.text

        self.run(go())
        self.stats["office_submit"] += 1

    def move(self, who: str) -> None:
        """a2 moves between communes; b gets or loses a second commune (property 7)."""
        user = self.a2 if who == "a2" else self.b
        now = self.communes[user.id]
        if who == "a2":
            new = ["38002"] if now == ["38001"] else ["38001"]
        else:
            new = ["38002", "38001"] if now == ["38002"] else ["38002"]
        self.run(self.world.set_grants(user, [(Role.COMMUNE_OFFICIAL, c) for c in new]))
        self.communes[user.id] = new
        self.stats["move"] += 1

    def restart(self) -> None:
        self.world.restart()
        self.stats["restart"] += 1

    # -- syncing ---------------------------------------------------------------------------------

    def sync_fails(self, which: int, fault: Any) -> None:
        """A sync that never gets through (the phone gives up): whatever the server applied, the
        phone learns at its next sync."""
        p = self.phones[which]
        self._sync(p, [fault, fault], attempts=2)

    def _sync(self, p: Phone, faults: list[Any], attempts: int) -> None:
        transport = p.official.transport  # type: ignore[attr-defined]
        transport.plan = list(faults)
        transport._plan_left = None
        p.official.backoff = Backoff(attempts=attempts, rng=random.Random(0))
        before = self.run(server_view(self.world, p.user))
        try:
            self.run(p.official.sync())
            self.stats["sync"] += 1
        except (httpx.HTTPError, ValueError) as exc:
            self.stats["sync_failed"] += 1
            self.stats[f"sync_failed:{attempts}:{type(exc).__name__}"] += 1
        except SyncFailed as exc:
            # Only a corrupted or cut request may be refused outright (nothing applied then).
            assert exc.status == 400, exc
            self.stats["sync_refused"] += 1
        finally:
            transport.plan = []
            transport._plan_left = None
        self._check_step(p, before)

    def _check_step(self, p: Phone, view: ServerView) -> None:
        """Replay what the server's ledger says it did for this phone during the step."""
        device = p.official.device
        entries = self.run(ledger(self.world, device, p.checked))
        store = p.official.store
        new_conflicts = {
            (c["row_id"], c["field"], int(c["seq"]))
            for c in self.run(SyncConflict.select().where(SyncConflict.device_id == device))
            if int(c["seq"]) > p.checked
        }
        predicted_conflicts: set[tuple[str, str, int]] = set()
        loose = False
        for entry in entries:
            seq = int(entry["seq"])
            assert seq == p.checked + 1, f"ledger of {p.name} jumps from {p.checked} to {seq}"
            p.checked = seq
            m = store.mutation(seq)
            assert m is not None
            full = store.db.execute("SELECT v, base FROM mutations WHERE seq = ?", (seq,)).fetchone()
            m["v"] = int(full[0])
            base = None if full[1] is None else json.loads(full[1])
            want = expect(view, m, base)
            answer = json_column(entry["answer"], {})
            got = "applied" if entry["status"] == "applied" else "rejected"
            if want.predicted:
                assert got == want.status, (p.name, m, answer, want)
            if got == "rejected":
                code = answer["err"]["code"]
                assert code in want.codes, (p.name, m, answer, want)
                self.stats[f"rejected:{code}"] += 1
            if not want.predicted:
                loose = True
            if got == "applied" and m["t"] == "notice":
                if m["op"] == "c":
                    self.created.add(m["id"])
                elif m["op"] == "d":
                    self.deleted.add(m["id"])
            predicted_conflicts |= {(m["id"], f, seq) for f in want.conflicts}
        if loose:
            return
        notice_conflicts = {c for c in new_conflicts if c[0] in view.notices or c[0] in view.tombstoned}
        assert notice_conflicts == predicted_conflicts, (p.name, notice_conflicts, predicted_conflicts)
        self.conflicts_seen += len(predicted_conflicts)
        after = self.run(server_view(self.world, p.user))
        assert set(after.notices) == set(view.notices), (p.name, set(after.notices) ^ set(view.notices))
        for notice_id, state in view.notices.items():
            now = after.notices[notice_id]
            assert (now.status, now.values) == (state.status, state.values), (p.name, notice_id, now, state)

    def teardown(self) -> None:
        try:
            if hasattr(self, "phones"):
                self._heal_and_check()
        finally:
            self.world.stats.update(self.stats)
            self.world.stats["conflicts"] += getattr(self, "conflicts_seen", 0)

    def _heal_and_check(self) -> None:
        w = self.world
        for _ in range(2):
            for p in self.phones:
                p.official.transport.plan = []  # type: ignore[attr-defined]
                p.official.transport._plan_left = None  # type: ignore[attr-defined]
                p.official.backoff = Backoff(attempts=3, rng=random.Random(0))
                before = self.run(server_view(w, p.user))
                self.run(p.official.sync())
                self._check_step(p, before)
        # Property 3: every replica is the server's view of its scope.
        for p in self.phones:
            store = p.official.store
            assert store.pending() == [], p.name
            want = self.run(scope_rows(w, p.user))
            for table, rows in want.items():
                held = store.base_rows(table)
                assert held == rows, (p.name, table, set(held) ^ set(rows))
            assert store.get("cursor") == self.run(high_water(w.rt))
        # Property 1: every mutation applied exactly once, or rejected; the ledger agrees.
        audit = self.run(AuditEntry.select(AuditEntry.action, AuditEntry.details))
        effects: Counter[tuple[str, int, str]] = Counter()
        for entry in audit:
            details = json_column(entry["details"], {})
            if details.get("via") == "sync":
                effects[(details["device"], int(details["seq"]), entry["action"])] += 1
        assert all(n == 1 for n in effects.values()), [k for k, n in effects.items() if n > 1]
        for p in self.phones:
            device = p.official.device
            journal = p.official.store.mutations()
            rows = self.run(SyncMutation.select().where(SyncMutation.device_id == device))
            by_seq = {int(r["seq"]): r for r in rows}
            assert sorted(by_seq) == [m["seq"] for m in journal], p.name
            last = self.run(SyncDevice.select(SyncDevice.last_seq).where(SyncDevice.id == device).first())
            assert int(last["last_seq"] if last else 0) == len(journal)
            for m in journal:
                status = by_seq[m["seq"]]["status"]
                assert m["state"] == ("acked" if status == "applied" else "rejected"), (p.name, m, status)
                if m["op"] == "c" and status == "applied":
                    assert effects[(device, m["seq"], "notice.create")] == 1
        # Nothing acknowledged is lost; no discarded draft comes back, anywhere.
        present = {str(r["id"]) for r in self.run(Notice.select(Notice.id))}
        assert self.created - self.deleted <= present
        assert not (self.deleted & present)
        for p in self.phones:
            assert not (self.deleted & set(p.official.store.base_rows("notice")))


@pytest.fixture
def world(settings, tmp_path):
    w = World(settings, tmp_path)
    yield w
    w.close()


def test_replicas_converge_through_faults_restarts_and_scope_changes(world):
    """Derandomized (the same sequences on every run); the examples must have exercised what
    they are meant to (conflicts, rejections, failed syncs, restarts, moves)."""
    Convergence.world = world
    run_state_machine_as_test(
        Convergence,
        settings=settings(
            max_examples=8,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    seen = world.stats
    print(dict(seen))
    for event in ("conflicts", "restart", "move", "sync_failed", "rejected:invalid_state", "office_edit"):
        assert seen[event] > 0, (event, dict(seen))


# ------------------------------------------------------------------------------------------------
# Property 2: the cursor with concurrent writers


async def test_a_reader_never_skips_a_change_committed_out_of_order(client, factory):
    """Writers whose transactions overlap (each holds its sequence while it sleeps, then commits)
    and a reader pulling all the while: every change reaches the reader although it never rereads
    below its cursor."""
    from backend.sync import pull

    rt = client.app.state.rt
    await factory.tree()
    reader = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    actor = await actor_for_account(rt, reader.id, ClientInfo(addr="t", request_id="r"))
    rng = random.Random(5)
    written: list[str] = []

    async def writer(n: int) -> None:
        for _ in range(6):
            row_id = str(uuid.uuid4())
            async with rt.db.transaction():
                await rt.db.execute('INSERT INTO "test_cursor_row" ("id", "n") VALUES ({}, {})', row_id, n)
                await record_change(
                    rt,
                    table="notice",
                    row_id=row_id,
                    op="upsert",
                    area_paths=["/VN/38/38001/"],
                    actor_id=None,
                )
                await asyncio.sleep(rng.uniform(0, 0.01))
            written.append(row_id)

    seen: set[str] = set()
    cursor = 0
    done = False

    async def read() -> None:
        nonlocal cursor
        while True:
            finished = done
            page = await pull.pull(rt, _CursorRows(rt.sync_tables), actor, "reader-device", cursor, 1 << 20)
            seen.update(msgspec.json.decode(c)["id"] for c in page.changes)
            assert page.cursor >= cursor
            cursor = page.cursor
            if finished and not page.more:
                return
            await asyncio.sleep(0)

    await rt.db.execute_ddl(
        'CREATE TABLE IF NOT EXISTS "test_cursor_row" ("id" VARCHAR(64) PRIMARY KEY, "n" INTEGER)'
    )
    reading = asyncio.create_task(read())
    await asyncio.gather(*(writer(n) for n in range(4)))
    done = True
    await reading
    assert set(written) <= seen and len(written) == 24
    assert cursor == await high_water(rt)


class _CursorRows:
    """A registry with one table whose rows are always present, so only the cursor decides what
    the reader receives."""

    def __init__(self, real: Any) -> None:
        from backend.sync.registry import Row, SyncedTable

        async def load(rt: Any, ids: list[str]) -> dict[str, Row]:
            return {i: Row(id=i, data={"x": 1}, paths=("/VN/38/38001/",)) for i in ids}

        async def ids_in_scope(rt: Any, actor: Any) -> list[str]:
            return []

        self.table = SyncedTable(name="notice", load=load, ids_in_scope=ids_in_scope)

    def __iter__(self):
        return iter([self.table])

    def get(self, name: str) -> Any:
        return self.table if name == "notice" else None

    @property
    def names(self) -> list[str]:
        return ["notice"]
