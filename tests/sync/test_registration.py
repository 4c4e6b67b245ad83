"""A new domain puts a table on officials' phones in a few lines (the protocol document shows the
same registration): read, create, edit, delete, scope, and the generic rules all come with it."""

from __future__ import annotations

import msgspec
from piccolo.columns import Text, Varchar
from piccolo.table import Table

from backend.core.accounts.permissions import Permission, Role
from backend.core.areas import services as areas
from backend.core.audit.tables import AuditEntry
from backend.sync import Context, Field, TableSource
from tests.sync.helpers import phone


class SpeakerCheck(Table, tablename="test_speaker_check"):
    """A stand-in for another domain's table (say, a loudspeaker check an official does on foot)."""

    id = Varchar(length=64, primary_key=True)
    area_path = Varchar(length=512)
    note = Text(default="")
    state = Varchar(length=16, default="ok")


class SpeakerCheckFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    area: str | None = None
    note: str | None = None
    state: str | None = None


async def area_path(ctx: Context, values: dict) -> str:
    return (await areas.paths_for(ctx.rt, [values["area"]], field="f.area"))[values["area"]]


DDL = (
    'CREATE TABLE IF NOT EXISTS "test_speaker_check" ("id" VARCHAR(64) PRIMARY KEY NOT NULL, '
    '"area_path" VARCHAR(512) NOT NULL, "note" TEXT NOT NULL DEFAULT \'\', "state" VARCHAR(16) NOT NULL DEFAULT \'ok\')'
)


async def test_a_table_registered_in_a_few_lines_syncs_both_ways(client, factory, tmp_path):
    rt = client.app.state.rt
    await rt.db.execute_ddl(DDL)
    await rt.db.execute('DELETE FROM "test_speaker_check"')
    SpeakerCheck._meta.db = rt.db.engine

    # The registration a domain writes:
    rt.sync_tables.add(
        TableSource(
            SpeakerCheck,
            name="speaker_check",
            id=SpeakerCheck.id,
            path=SpeakerCheck.area_path,
            columns={"note": SpeakerCheck.note, "state": SpeakerCheck.state, "path": SpeakerCheck.area_path},
            permission=Permission.NOTICE_READ,
            fields={
                "note": Field("client_wins"),
                "state": Field("server_wins"),
                "area": Field(create_only=True),
            },
            schema=SpeakerCheckFields,
            write_permission=Permission.NOTICE_EDIT,
            path_of=area_path,
        ).synced()
    )

    await factory.tree()
    here = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    colleague = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    elsewhere = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    a = phone(client.app, tmp_path / "a.db", here)
    b = phone(client.app, tmp_path / "b.db", colleague)
    c = phone(client.app, tmp_path / "c.db", elsewhere)

    check = a.create(
        "speaker_check", {"area": "38001-01", "note": "Cụm loa thôn Đông kêu rè", "state": "faulty"}
    )
    outside = a.create("speaker_check", {"area": "38002-01", "note": "Không phải địa bàn của tôi"})
    await a.sync()
    [rejected] = a.rejected()
    assert rejected["id"] == outside and rejected["answer"]["err"]["code"] == "out_of_area"
    assert a.rows("speaker_check")[check]["path"] == "/VN/38/38001/38001-01/"

    await b.sync()
    await c.sync()
    assert b.rows("speaker_check")[check]["note"] == "Cụm loa thôn Đông kêu rè"
    assert c.rows("speaker_check") == {}

    b.update("speaker_check", check, {"note": "Đã thay loa"})
    await b.sync()
    await a.sync()
    assert a.rows("speaker_check")[check]["note"] == "Đã thay loa"

    a.delete("speaker_check", check)
    await a.sync()
    await b.sync()
    assert b.rows("speaker_check") == {} and a.rows("speaker_check") == {}
    assert await SpeakerCheck.count() == 0
    actions = [
        r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.target_id == check)
    ]
    assert actions == ["speaker_check.create", "speaker_check.edit", "speaker_check.delete"]
