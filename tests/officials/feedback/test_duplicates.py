"""Likely duplicates regardless of diacritics, and merging: links both ways, followers move to the
original, and the citizen reads why in their own history."""

from datetime import UTC, datetime

import pytest

from backend.adapters.clock import FakeClock
from backend.officials.feedback import duplicates
from backend.officials.feedback.tables import FeedbackFollower
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import CITIZEN_URL, URL, act, staff, submit


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


def test_similarity_ignores_diacritics_and_distance_is_in_metres():
    same = duplicates.similarity("Đèn đường hỏng ở đầu thôn Đông", "den duong hong o dau thon dong")
    assert same == 1.0
    assert (
        duplicates.similarity("Đèn đường bị hỏng, tối om", "Đèn đường đầu thôn hỏng") >= duplicates.THRESHOLD
    )
    assert duplicates.similarity("Bãi rác tự phát cạnh trường", "Đèn đường hỏng") < duplicates.THRESHOLD
    assert 40 < duplicates.haversine_m(19.8, 105.77, 19.8004, 105.77) < 50


async def test_suggested_on_intake_and_merged_both_ways(client, factory, clock):
    await factory.tree()
    handler = await staff(factory)
    first_headers, _ = await citizen(client)
    second_headers, second_account = await citizen(client)
    original = await submit(client, first_headers, text="Đèn đường hỏng ở đầu thôn Đông, tối om")
    clock.advance(minutes=10)
    copy = await submit(client, second_headers, text="den duong hong o dau thon dong toi om qua")
    await submit(client, text="Đèn đường hỏng ở đầu thôn Đông", area_code="38002-01")  # elsewhere
    await submit(client, text="Đèn đường hỏng ở đầu thôn Đông", category="health")  # other matter
    headers = {"Authorization": f"Bearer {factory.token(handler.id)}"}
    shown = (await client.get(f"{URL}/{copy}", headers=headers)).json()
    assert shown["handling"]["possible_duplicate"] == original
    assert [d["id"] for d in shown["suggested_duplicates"]] == [original]
    assert [
        d["id"]
        for d in (await client.get(f"{URL}/{original}", headers=headers)).json()["suggested_duplicates"]
    ] == [copy]

    assert (await act(client, handler, copy, "merge", {"original": copy})).status_code == 422
    merged = await act(client, handler, copy, "merge", {"original": original, "reason": "Cùng vụ việc"})
    assert merged.status_code == 200 and merged.json()["status"] == "duplicate"
    assert merged.json()["handling"]["duplicate_of"] == original
    back = (await client.get(f"{URL}/{original}", headers=headers)).json()
    assert back["duplicates"] == [copy] and back["followers"] == 1
    assert back["history"][-1]["kind"] == "merged_in" and back["history"][-1]["public"] is False
    followers = await FeedbackFollower.select(FeedbackFollower.account).where(
        FeedbackFollower.feedback == original
    )
    assert [str(f["account"]) for f in followers] == [second_account]
    token = back["token"]
    theirs = (await client.get(f"{CITIZEN_URL}/{copy}", headers=second_headers)).json()
    assert theirs["status"] == "duplicate" and theirs["history"][-1]["kind"] == "merged"
    assert token in theirs["history"][-1]["text"]
    again = await act(client, handler, copy, "merge", {"original": original})
    assert again.status_code == 409
