"""Offline sync: server state and epoch, devices and their mutation ledger, change origins,
conflicts, scope tokens and the content-addressed blob store. Existing feedback gets a
change-log entry so officials' phones receive it (feedback did not record changes before)."""

import secrets

from backend.lib.db import Database

SQLITE = [
    'CREATE TABLE "sync_state" ("id" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "epoch" VARCHAR(32) NOT NULL '
    "DEFAULT '', \"floor\" INTEGER NOT NULL DEFAULT 0)",
    'CREATE TABLE "sync_device" ("id" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "account" UUID NOT NULL, '
    '"last_seq" INTEGER NOT NULL DEFAULT 0, "protocol" INTEGER NOT NULL DEFAULT 2, "scope_token" VARCHAR(32) '
    'NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "last_sync_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX sync_device_account ON "sync_device" ("account")',
    'CREATE TABLE "sync_mutation" ("key" VARCHAR(96) PRIMARY KEY NOT NULL DEFAULT \'\', "device_id" VARCHAR(64) '
    'NOT NULL DEFAULT \'\', "seq" INTEGER NOT NULL DEFAULT 0, "account" UUID DEFAULT null, "table_name" '
    "VARCHAR(48) NOT NULL DEFAULT '', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"op\" VARCHAR(8) NOT NULL "
    "DEFAULT '', \"status\" VARCHAR(12) NOT NULL DEFAULT '', \"answer\" JSON NOT NULL DEFAULT '{}', \"at\" "
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX sync_mutation_device_id ON "sync_mutation" ("device_id")',
    'CREATE INDEX sync_mutation_account ON "sync_mutation" ("account")',
    'CREATE INDEX sync_mutation_row_id ON "sync_mutation" ("row_id")',
    'CREATE INDEX sync_mutation_at ON "sync_mutation" ("at")',
    'CREATE TABLE "sync_origin" ("seq" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "device_id" VARCHAR(64) NOT NULL '
    "DEFAULT '')",
    'CREATE INDEX sync_origin_device_seq ON "sync_origin" ("device_id", "seq")',
    'CREATE TABLE "sync_conflict" ("id" UUID PRIMARY KEY NOT NULL, "table_name" VARCHAR(48) NOT NULL DEFAULT '
    "'', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"field\" VARCHAR(64) NOT NULL DEFAULT '', \"rule\" "
    "VARCHAR(16) NOT NULL DEFAULT '', \"values\" JSON NOT NULL DEFAULT '{}', \"device_id\" VARCHAR(64) NOT NULL "
    'DEFAULT \'\', "seq" INTEGER NOT NULL DEFAULT 0, "account" UUID DEFAULT null, "area_paths" JSON NOT NULL '
    "DEFAULT '[]', \"status\" VARCHAR(12) NOT NULL DEFAULT 'open', \"resolution\" VARCHAR(12) NOT NULL DEFAULT "
    '\'\', "resolved_by" UUID DEFAULT null, "resolved_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ '
    "NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX sync_conflict_row_id ON "sync_conflict" ("row_id")',
    'CREATE INDEX sync_conflict_status ON "sync_conflict" ("status")',
    'CREATE TABLE "sync_scope" ("token" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "grants" JSON NOT NULL '
    "DEFAULT '[]', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE TABLE "sync_blob" ("sha256" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "size" INTEGER NOT NULL '
    'DEFAULT 0, "mime" VARCHAR(100) NOT NULL DEFAULT \'application/octet-stream\', "received" INTEGER NOT NULL '
    'DEFAULT 0, "complete" BOOLEAN NOT NULL DEFAULT false, "created_by" UUID DEFAULT null, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "completed_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX sync_mutation_device_seq ON "sync_mutation" ("device_id", "seq")',
    'CREATE INDEX change_log_table_row_seq ON "change_log" ("table_name", "row_id", "seq")',
]
POSTGRES = [
    'CREATE TABLE "sync_state" ("id" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "epoch" VARCHAR(32) NOT NULL '
    "DEFAULT '', \"floor\" BIGINT NOT NULL DEFAULT 0)",
    'CREATE TABLE "sync_device" ("id" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "account" UUID NOT NULL '
    'DEFAULT gen_random_uuid(), "last_seq" BIGINT NOT NULL DEFAULT 0, "protocol" INTEGER NOT NULL DEFAULT 2, '
    '"scope_token" VARCHAR(32) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "last_sync_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX sync_device_account ON "sync_device" USING btree ("account")',
    'CREATE TABLE "sync_mutation" ("key" VARCHAR(96) PRIMARY KEY NOT NULL DEFAULT \'\', "device_id" VARCHAR(64) '
    'NOT NULL DEFAULT \'\', "seq" BIGINT NOT NULL DEFAULT 0, "account" UUID DEFAULT null, "table_name" '
    "VARCHAR(48) NOT NULL DEFAULT '', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"op\" VARCHAR(8) NOT NULL "
    "DEFAULT '', \"status\" VARCHAR(12) NOT NULL DEFAULT '', \"answer\" JSON NOT NULL DEFAULT '{}', \"at\" "
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX sync_mutation_device_id ON "sync_mutation" USING btree ("device_id")',
    'CREATE INDEX sync_mutation_account ON "sync_mutation" USING btree ("account")',
    'CREATE INDEX sync_mutation_row_id ON "sync_mutation" USING btree ("row_id")',
    'CREATE INDEX sync_mutation_at ON "sync_mutation" USING btree ("at")',
    'CREATE TABLE "sync_origin" ("seq" BIGINT PRIMARY KEY NOT NULL DEFAULT 0, "device_id" VARCHAR(64) NOT NULL '
    "DEFAULT '')",
    'CREATE INDEX sync_origin_device_seq ON "sync_origin" USING btree ("device_id", "seq")',
    'CREATE TABLE "sync_conflict" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "table_name" '
    "VARCHAR(48) NOT NULL DEFAULT '', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"field\" VARCHAR(64) NOT "
    "NULL DEFAULT '', \"rule\" VARCHAR(16) NOT NULL DEFAULT '', \"values\" JSON NOT NULL DEFAULT '{}', "
    '"device_id" VARCHAR(64) NOT NULL DEFAULT \'\', "seq" BIGINT NOT NULL DEFAULT 0, "account" UUID DEFAULT '
    "null, \"area_paths\" JSON NOT NULL DEFAULT '[]', \"status\" VARCHAR(12) NOT NULL DEFAULT 'open', "
    '"resolution" VARCHAR(12) NOT NULL DEFAULT \'\', "resolved_by" UUID DEFAULT null, "resolved_at" TIMESTAMPTZ '
    'DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX sync_conflict_row_id ON "sync_conflict" USING btree ("row_id")',
    'CREATE INDEX sync_conflict_status ON "sync_conflict" USING btree ("status")',
    'CREATE TABLE "sync_scope" ("token" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "grants" JSON NOT NULL '
    "DEFAULT '[]', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE TABLE "sync_blob" ("sha256" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "size" BIGINT NOT NULL '
    'DEFAULT 0, "mime" VARCHAR(100) NOT NULL DEFAULT \'application/octet-stream\', "received" BIGINT NOT NULL '
    'DEFAULT 0, "complete" BOOLEAN NOT NULL DEFAULT false, "created_by" UUID DEFAULT null, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "completed_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX sync_mutation_device_seq ON "sync_mutation" USING btree ("device_id", "seq")',
    'CREATE INDEX change_log_table_row_seq ON "change_log" USING btree ("table_name", "row_id", "seq")',
]


async def forwards(db: Database) -> None:
    await db.execute(
        'INSERT INTO "sync_state" ("id", "epoch", "floor") VALUES (1, {}, 0)', secrets.token_hex(8)
    )
    rows = await db.fetch(
        'SELECT f."id" AS "id", COALESCE(f."area_path", \'\') AS "path" FROM "feedback" f '
        'WHERE NOT EXISTS (SELECT 1 FROM "change_log" c WHERE c."table_name" = \'feedback\' '
        'AND c."row_id" = CAST(f."id" AS VARCHAR(64))) ORDER BY f."created_at"'
    )
    if not rows:
        return
    top = await db.fetchval(
        'UPDATE "change_counter" SET "value" = "value" + {} WHERE "id" = 1 RETURNING "value"', len(rows)
    )
    first = int(top) - len(rows) + 1
    for offset, row in enumerate(rows):
        seq = first + offset
        await db.execute(
            'INSERT INTO "change_log" ("seq", "table_name", "row_id", "op", "actor_id", "at") '
            "VALUES ({}, 'feedback', {}, 'upsert', NULL, current_timestamp)",
            seq,
            str(row["id"]),
        )
        if row["path"]:
            await db.execute(
                'INSERT INTO "change_area" ("seq", "area_path") VALUES ({}, {})', seq, row["path"]
            )
