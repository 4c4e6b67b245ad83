"""The queue as CSV: every page, the queue's filters and scope, identities only where the role
allows and never for anonymous reports, formulas neutralised, the export audited."""

import csv
import io
import uuid

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.core.audit.tables import AuditEntry
from tests.citizen.feedback.helpers import citizen
from tests.officials.feedback.helpers import URL, staff, submit

EXPORT = f"{URL}/export.csv"


def parse(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


async def test_export_respects_scope_filters_and_anonymity(client, factory, monkeypatch):
    from backend.officials.feedback import export

    monkeypatch.setattr(export, "PAGE", 2)  # several pages of the queue make one file
    await factory.tree()
    official = await staff(factory, Role.COMMUNE_OFFICIAL)
    leader = await staff(factory, Role.COMMUNE_LEADER)
    headers, account = await citizen(client)
    await Account.update({Account.full_name: "Trần Thị Bình", Account.phone: "0987654321"}).where(
        Account.id == uuid.UUID(account)
    )
    named = await submit(client, headers, anonymous=False, text='=HYPERLINK("x") Đèn đường hỏng')
    hidden = [await submit(client, headers, anonymous=True) for _ in range(3)]
    await submit(client, area_code="40001")  # another province: outside everyone's scope here

    rows = parse(await client.get(EXPORT, headers=leader.headers))
    assert len(rows) == 4
    by_id = {r["token"]: r for r in rows}
    tokens = {
        fid: (await client.get(f"{URL}/{fid}", headers=leader.headers)).json()["token"]
        for fid in [named, *hidden]
    }
    shown = by_id[tokens[named]]
    assert (shown["reporter_name"], shown["reporter_phone"], shown["anonymous"]) == (
        "Trần Thị Bình",
        "0987654321",
        "0",
    )
    assert shown["text"].startswith("'=HYPERLINK")
    assert shown["status"] == "received" and shown["answer_due"].endswith("+07:00")
    for fid in hidden:
        row = by_id[tokens[fid]]
        assert (row["reporter_name"], row["reporter_phone"], row["anonymous"]) == ("", "", "1")

    not_allowed = await client.get(EXPORT, headers=official.headers)
    assert "0987654321" not in not_allowed.text and "Trần Thị Bình" not in not_allowed.text
    assert len(parse(not_allowed)) == 4
    searched = parse(await client.get(EXPORT, params={"q": "den duong"}, headers=leader.headers))
    assert [r["token"] for r in searched] == [tokens[named]]
    assert (await client.get(EXPORT, params={"area": "nowhere"}, headers=leader.headers)).status_code == 422
    citizen_headers, _ = await citizen(client)
    assert (await client.get(EXPORT, headers=citizen_headers)).status_code == 403
    audited = await AuditEntry.select(AuditEntry.actor_id).where(AuditEntry.action == "feedback.export")
    assert [a["actor_id"] for a in audited].count(leader.id) == 2  # the refused one is not an export
