"""The gateway adapter's pieces (template rendering, answer classification) and the channel's rules
with the fake gateway: the last outbox attempt turns retries into failures, an adapter that raises
leaves the row to retry, a notice withdrawn before sending sends nothing."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs

from backend.adapters.sms import FakeSmsGateway, SmsResult, classify, render_body
from backend.citizen.sms.channel import SmsChannel
from backend.citizen.sms.tables import SmsDelivery, SmsSubscription
from backend.citizen.subscriptions.tables import Subscription
from backend.core.accounts.tables import Account
from backend.core.areas import services as areas
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.services import MAX_ATTEMPTS, ClaimedMessage, RetryLater
from tests.factories import TREE

VALUES = {
    "to": "0912",
    "text": 'Lũ "khẩn" & đi\nngay',
    "encoding": "ucs2",
    "sender": "UB",
    "reference": "r-1",
    "segments": "1",
}


def test_template_is_escaped_for_json_and_forms():
    body = render_body(
        '{"to": "{to}", "msg": "{text}", "ref": "{reference}", "n": {segments}}', VALUES, "application/json"
    )
    assert json.loads(body) == {"to": "0912", "msg": 'Lũ "khẩn" & đi\nngay', "ref": "r-1", "n": 1}
    form = render_body("to={to}&text={text}&from={sender}", VALUES, "application/x-www-form-urlencoded")
    assert parse_qs(form) == {"to": ["0912"], "text": ['Lũ "khẩn" & đi\nngay'], "from": ["UB"]}


def test_answers_are_classified():
    assert classify(200, {}, b'{"message_id": 42}') == SmsResult("sent", 200, gateway_id="42")
    assert classify(202, {}, b"queued") == SmsResult("sent", 202)
    retry = classify(429, {"retry-after": "30"}, b"slow down")
    assert (retry.outcome, retry.retry_after) == ("retry", 30.0)
    assert classify(503, {}, b"").outcome == "retry"
    assert classify(400, {}, b"bad number").outcome == "failed"


class Boom(FakeSmsGateway):
    async def send(self, message):  # an adapter bug, not an answer
        raise RuntimeError("bug")


async def _world(rt, phones: list[str]) -> uuid.UUID:
    async with rt.db.transaction():
        records = [areas.AreaRecord(code=c, name=n, parent_code=p, level=lvl) for c, n, p, lvl in TREE]
        await areas.import_records(rt, records)
    now = rt.clock.now()
    for phone in phones:
        account = uuid.uuid4()
        await Account.insert(Account(id=account, kind="citizen", device_id=f"dev-{phone}", created_at=now))
        await Subscription.insert(
            Subscription(
                id=uuid.uuid4(), account=account, area_code="38001", area_path="/VN/38/38001/", categories=[]
            )
        )
        await SmsSubscription.insert(
            SmsSubscription(
                id=uuid.uuid4(), account=account, phone=phone, notices="emergency", encoding="auto"
            )
        )
    notice_id = uuid.uuid4()
    await Notice.insert(
        Notice(
            id=notice_id,
            thread_id=notice_id,
            status="published",
            category="disaster",
            priority="emergency",
            owner_area="38001",
            owner_path="/VN/38/38001/",
            texts={"vi": {"title": "Bão", "body": "Sơ tán.", "summary": ""}},
            created_by=uuid.uuid4(),
            published_at=now,
        )
    )
    await NoticeTarget.insert(NoticeTarget(notice=notice_id, area_code="38001", area_path="/VN/38/38001/"))
    return notice_id


def _message(notice_id: uuid.UUID, attempts: int, event: str = "published") -> ClaimedMessage:
    return ClaimedMessage(
        id=1, channel="sms", event=event, aggregate_id=str(notice_id), payload={}, attempts=attempts
    )


async def test_last_attempt_fails_what_still_needs_a_retry(rt):
    notice_id = await _world(rt, ["0900000001", "0900000002"])
    fake = FakeSmsGateway(results={"0900000002": [SmsResult("retry", 503)] * 2})
    channel = SmsChannel(rt.settings, gateway=lambda: fake)
    try:
        await channel(rt, _message(notice_id, 1))
        raise AssertionError("expected a retry")
    except RetryLater:
        pass
    await channel(rt, _message(notice_id, MAX_ATTEMPTS))  # the outbox's last try: no RetryLater
    rows = {r["phone"]: r for r in await SmsDelivery.select()}
    assert rows["0900000001"]["status"] == "sent" and rows["0900000001"]["segments"] == 1
    assert rows["0900000002"]["status"] == "failed" and "gave up" in rows["0900000002"]["error"]
    assert [m.to for m in fake.sent] == ["0900000001"]
    assert fake.sent[0].text == "KHẨN CẤP: Bão. Sơ tán." and fake.sent[0].encoding == "ucs2"


async def test_an_adapter_error_leaves_the_row_to_retry_and_withdrawal_stops_sending(rt):
    notice_id = await _world(rt, ["0900000003"])
    try:
        await SmsChannel(rt.settings, gateway=Boom)(rt, _message(notice_id, 1))
        raise AssertionError("expected a retry")
    except RetryLater:
        pass
    row = await SmsDelivery.select().first()
    assert (row["status"], row["claimed_at"]) == ("retry", None)
    await Notice.update({Notice.status: "withdrawn"}).where(Notice.id == notice_id)
    fake = FakeSmsGateway()
    await SmsChannel(rt.settings, gateway=lambda: fake)(rt, _message(notice_id, 2))
    assert fake.attempts == []
    assert (await SmsDelivery.select().first())["status"] == "skipped"
