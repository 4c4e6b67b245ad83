"""How the reference client decodes a checkpoint and writes its rows: fields stored as the text
the server sent, a checkpoint's rows written in batches that leave exactly what applying them one
by one would, and all of it or none of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobile_client_py.offline import OfflineOfficial, SyncReport, decode_answer
from mobile_client_py.store import Store, _dumps

FIELDS = {
    "title": "Thông báo tiêm chủng — thôn Đông",
    "body": 'Trẻ em dưới 5 tuổi, mang "sổ tiêm"\nđến trạm y tế\\xã.',
    "targets": ["38001"],
    "n": 12345678901234,
    "ratio": 0.5,
    "done": False,
    "note": None,
    "nested": {"a": [1, {"b": "ư"}]},
}


def answer(changes: list[dict[str, Any]], **extra: Any) -> bytes:
    body = {"protocol": 2, "epoch": "e1", "device_seq": 0, "cursor": 7, "tag": "t7", "changes": changes}
    return msgspec.json.encode({**body, **extra})


def official(tmp_path: Path) -> OfflineOfficial:
    return OfflineOfficial(Store(tmp_path / "phone.db"), None)  # type: ignore[arg-type]  # never sends


def rows(store: Store) -> list[tuple[Any, ...]]:
    return store.db.execute("SELECT t, id, v, data, seen FROM rows ORDER BY t, id").fetchall()


def test_fields_are_stored_as_sent_and_read_back_as_the_same_dict(tmp_path):
    phone = official(tmp_path)
    content = answer(
        [
            {"t": "notice", "id": "a", "v": 3, "f": FIELDS},
            {"t": "notice", "id": "b", "v": 1, "f": None},
            {"t": "notice", "id": "c", "v": 2},
            {"t": "notice", "id": "d", "v": 5, "f": {}},
        ]
    )
    report = SyncReport()
    phone._apply(decode_answer(content), report)

    s = phone.store
    assert report.changes == 4
    assert s.base("notice", "a") == (3, FIELDS)
    assert s.base_rows("notice") == {"a": (3, FIELDS), "b": (1, {}), "c": (2, {}), "d": (5, {})}
    assert s.view("notice")["a"] == FIELDS
    # The text is the server's own, not a re-encoding of it.
    stored = s.db.execute("SELECT data FROM rows WHERE id = 'a'").fetchone()[0]
    assert stored == msgspec.json.encode(FIELDS).decode()
    assert json.loads(stored) == FIELDS
    assert s.get("cursor") == 7 and s.get("tag") == "t7"


def test_whitespace_and_unknown_keys_in_an_answer_are_harmless():
    content = b'{ "changes" : [ { "t" : "notice" , "id" : "a" , "v" : 1 , "f" : { "x" : "\xc6\xb0" } , "new" : 1 } ] }'
    decoded = decode_answer(content)
    (change,) = decoded["changes"]
    assert change[:3] == ("notice", "a", 1) and json.loads(change[3]) == {"x": "ư"}


def test_fields_that_are_not_an_object_are_kept_as_before():
    decoded = decode_answer(answer([{"t": "n", "id": "a", "f": []}, {"t": "n", "id": "b", "f": [1, "ư"]}]))
    assert [json.loads(c[3]) for c in decoded["changes"]] == [{}, [1, "ư"]]


@pytest.mark.parametrize(
    "content",
    [
        b'{"changes": [{"t": "n", "id": "a", "f": {"x": "\xff"}}]}',  # not UTF-8
        b'{"changes": [{"t": "n", "id": "a", "f": {"x": tru}}]}',  # malformed fields
        b'{"changes": [{"t": "n", "f": {}}]}',  # no id
        b'{"changes": [{"t": "n", "id": "a", "v": "1"}]}',  # wrong type
        b'{"cursor": 1,}',
        b"",
    ],
)
def test_a_garbled_answer_is_a_value_error_before_anything_is_applied(content):
    """``_send`` retries on ``ValueError``, as it did when the standard library decoded answers."""
    with pytest.raises(ValueError):
        decode_answer(content)


def test_the_other_keys_of_an_answer_decode_as_json():
    decoded = decode_answer(
        answer([], scope=None, scan={"kind": "snapshot", "token": "x", "done": False}, more=True)
    )
    assert decoded == {
        "protocol": 2,
        "epoch": "e1",
        "device_seq": 0,
        "cursor": 7,
        "tag": "t7",
        "changes": [],
        "scope": None,
        "scan": {"kind": "snapshot", "token": "x", "done": False},
        "more": True,
    }
    assert "changes" not in decode_answer(b'{"rows": {"3": [["a", 1]]}}')


def test_repeated_rows_in_one_checkpoint_end_as_the_last_change_says(tmp_path):
    phone = official(tmp_path)
    s = phone.store
    with s.transaction():
        s.put_row("notice", "gone", 1, {"x": 1})
        s.put_row("notice", "back", 1, {"x": 1})
    content = answer(
        [
            {"t": "notice", "id": "a", "v": 1, "f": {"x": 1}},
            {"t": "notice", "id": "a", "v": 2, "f": {"x": 2}},
            {"t": "notice", "id": "b", "v": 1, "f": {"x": 1}},
            {"t": "notice", "id": "b", "rm": True},
            {"t": "notice", "id": "gone", "rm": True},
            {"t": "notice", "id": "back", "rm": True},
            {"t": "notice", "id": "back", "v": 4, "f": {"x": 4}},
            {"t": "draft", "id": "a", "v": 9, "f": {"y": 9}},
        ]
    )
    phone._apply(decode_answer(content), SyncReport())
    assert s.base_rows("notice") == {"a": (2, {"x": 2}), "back": (4, {"x": 4})}
    assert s.base_rows("draft") == {"a": (9, {"y": 9})}


KEYS = st.tuples(st.sampled_from(["notice", "draft"]), st.sampled_from(["a", "b", "c"]))
CHANGE = st.tuples(KEYS, st.integers(1, 9), st.none() | st.dictionaries(st.text(max_size=3), st.integers()))


@settings(max_examples=200, deadline=None)
@given(before=st.lists(CHANGE, max_size=6), checkpoint=st.lists(CHANGE, max_size=12))
def test_a_batch_leaves_what_applying_its_changes_one_by_one_leaves(before, checkpoint):
    batch, one_by_one = Store(":memory:"), Store(":memory:")
    for (t, row_id), v, data in before:
        for s in (batch, one_by_one):
            s.put_row(t, row_id, v, data or {})
    for (t, row_id), v, data in checkpoint:
        if data is None:
            one_by_one.drop_row(t, row_id)
        else:
            one_by_one.put_row(t, row_id, v, data)
    batch.put_rows(
        [(t, row_id, v, None if data is None else _dumps(data)) for (t, row_id), v, data in checkpoint]
    )
    assert rows(batch) == rows(one_by_one)


def test_a_checkpoint_that_fails_after_its_rows_are_written_leaves_the_store_as_it_was(tmp_path):
    phone = official(tmp_path)
    s = phone.store
    phone._apply(decode_answer(answer([{"t": "notice", "id": "a", "v": 1, "f": {"x": 1}}])), SyncReport())
    kept = rows(s)
    # The rows go in first; the malformed scan (no "done") fails afterwards, inside the same transaction.
    broken = answer(
        [{"t": "notice", "id": "a", "rm": True}, {"t": "notice", "id": "b", "v": 1, "f": {"x": 1}}],
        cursor=99,
        scan={"kind": "snapshot", "token": "x"},
    )
    with pytest.raises(KeyError):
        phone._apply(decode_answer(broken), SyncReport())
    assert rows(s) == kept
    assert s.get("cursor") == 7
    assert s.db.execute("PRAGMA synchronous").fetchone()[0] == FULL  # back after the failure


FULL, NORMAL = 2, 1


def test_a_checkpoint_is_committed_without_a_flush_and_the_officials_work_with_one(tmp_path):
    seen: list[tuple[str, int]] = []
    phone = official(tmp_path)
    s = phone.store
    phone.hook = lambda step: seen.append((step, s.db.execute("PRAGMA synchronous").fetchone()[0]))
    phone._apply(decode_answer(answer([{"t": "notice", "id": "a", "v": 1, "f": {"x": 1}}])), SyncReport())
    assert ("applying", NORMAL) in seen
    assert s.db.execute("PRAGMA synchronous").fetchone()[0] == FULL
    # What the official writes offline exists only on the phone: it is committed durably.
    levels: list[int] = []
    run = s.db

    class Watch:
        def __getattr__(self, name: str) -> Any:
            return getattr(run, name)

        def execute(self, sql: str, *args: Any) -> Any:
            if sql in ("COMMIT",):
                levels.append(run.execute("PRAGMA synchronous").fetchone()[0])
            return run.execute(sql, *args)

    s.db = Watch()  # type: ignore[assignment]
    phone.create("notice", {"title": "Họp dân"})
    assert levels and set(levels) == {FULL}
