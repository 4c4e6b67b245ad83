"""What a sync costs: statements per pull whatever the number of changes, pages sized by the wire."""

from __future__ import annotations

from typing import Any

import httpx

from backend.core.accounts.permissions import Role
from tests.sync.helpers import count_statements, draft, phone, written_phone


def rewrite(writer: Any, ids: list[str], round_: int) -> None:
    for notice_id in ids:
        writer.update("notice", notice_id, {"body": f"Lịch mới {round_} cho {notice_id}"})


async def test_an_incremental_pull_runs_the_same_few_statements_for_one_change_or_forty(
    client, factory, tmp_path, monkeypatch
):
    writer, ids = await written_phone(client, factory, tmp_path / "w.db", 40)
    reader = phone(client.app, tmp_path / "r.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")))
    await reader.sync()

    statements = count_statements(client.app.state.rt, monkeypatch)
    pulls = []
    for round_, changed in enumerate((ids[:1], ids)):
        rewrite(writer, changed, round_)
        await writer.sync()
        statements.clear()
        report = await reader.sync()
        assert report.requests == 1 and report.changes == len(changed)
        pulls.append(list(statements))
    assert all(r["body"].startswith("Lịch mới") for r in reader.rows("notice").values())
    # Token, grants, state, window, rows: what is read does not grow with the number of changes.
    assert len(pulls[0]) == len(pulls[1]) <= 5, pulls


async def test_a_push_runs_the_same_statement_texts_for_three_mutations_or_thirty(
    client, factory, tmp_path, monkeypatch
):
    """PostgreSQL prepares and caches every statement per connection (SQLite too, per connection):
    a text made anew per mutation — a savepoint named after it, say — would push every other
    statement out of that cache with each push, and each statement after it would be prepared
    again."""
    writer, ids = await written_phone(client, factory, tmp_path / "w.db", 30)

    statements = count_statements(client.app.state.rt, monkeypatch)
    texts = []
    for round_, changed in enumerate((ids[:3], ids)):
        rewrite(writer, changed, round_)
        writer.delete("notice", writer.create("notice", draft(title=f"Nháp {round_}")))
        statements.clear()
        report = await writer.sync()
        assert report.applied == len(changed) + 2 and report.rejected == 0, report
        texts.append(set(statements))
    assert any("SAVEPOINT" in text for text in texts[1])
    assert texts[0] == texts[1], texts[1] - texts[0]


async def test_a_phone_asks_for_pages_by_what_they_cost_on_the_wire(client, factory, tmp_path):
    await written_phone(client, factory, tmp_path / "w.db", 150)

    budget = 8 * 1024
    reader = phone(
        client.app, tmp_path / "r.db", await factory.user((Role.COMMUNE_OFFICIAL, "38001")), page_bytes=budget
    )
    asked: list[int] = []
    wire: list[int] = []
    raw: list[int] = []
    reader.hook = lambda point: asked.append(reader.max_bytes()) if point == "sending" else None

    async def answered(response: httpx.Response) -> None:
        await response.aread()
        wire.append(int(response.headers["content-length"]))
        raw.append(len(response.content))

    reader.http.event_hooks["response"].append(answered)
    report = await reader.sync()

    assert len(reader.rows("notice")) == 150
    # The first page is bounded as if nothing compressed; once the phone has seen how its rows
    # compress, it asks for as much as fits its budget on the wire.
    assert asked[0] == budget and max(asked) > 3 * budget
    assert all(size <= budget for size in wire), wire
    assert report.requests < sum(raw) / budget / 2  # far fewer round trips than raw-byte pages
    assert reader.store.get("wire_ratio") > 3  # remembered for the next sync
