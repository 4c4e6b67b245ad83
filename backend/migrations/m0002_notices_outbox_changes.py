"""Notices with their targets, the outbox and the change log."""

SQLITE = [
    'CREATE TABLE "notice" ("id" UUID PRIMARY KEY NOT NULL, "thread_id" UUID NOT NULL, "version" INTEGER NOT '
    'NULL DEFAULT 1, "references_id" UUID DEFAULT null, "msg_type" VARCHAR(8) NOT NULL DEFAULT \'alert\', '
    '"status" VARCHAR(16) NOT NULL DEFAULT \'\', "category" VARCHAR(32) NOT NULL DEFAULT \'\', "priority" '
    "VARCHAR(16) NOT NULL DEFAULT '', \"owner_area\" VARCHAR(32) NOT NULL DEFAULT '', \"owner_path\" "
    "VARCHAR(512) NOT NULL DEFAULT '', \"texts\" JSON NOT NULL DEFAULT '{}', \"attachments\" JSON NOT NULL "
    'DEFAULT \'[]\', "valid_from" TIMESTAMPTZ DEFAULT null, "valid_until" TIMESTAMPTZ DEFAULT null, '
    '"created_by" UUID NOT NULL, "approved_by" UUID DEFAULT null, "published_by" UUID DEFAULT null, '
    '"submitted_at" TIMESTAMPTZ DEFAULT null, "approved_at" TIMESTAMPTZ DEFAULT null, "published_at" '
    'TIMESTAMPTZ DEFAULT null, "ended_at" TIMESTAMPTZ DEFAULT null, "end_reason" VARCHAR(255) NOT NULL DEFAULT '
    '\'\', "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX notice_thread_id ON "notice" ("thread_id")',
    'CREATE INDEX notice_status ON "notice" ("status")',
    'CREATE INDEX notice_category ON "notice" ("category")',
    'CREATE INDEX notice_owner_path ON "notice" ("owner_path")',
    'CREATE INDEX notice_published_at ON "notice" ("published_at")',
    'CREATE TABLE "notice_target" ("id" INTEGER PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") '
    "ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, \"area_code\" VARCHAR(32) NOT NULL DEFAULT '', "
    "\"area_path\" VARCHAR(512) NOT NULL DEFAULT '')",
    'CREATE INDEX notice_target_notice ON "notice_target" ("notice")',
    'CREATE INDEX notice_target_area_code ON "notice_target" ("area_code")',
    'CREATE INDEX notice_target_area_path ON "notice_target" ("area_path")',
    'CREATE TABLE "outbox_message" ("id" INTEGER PRIMARY KEY NOT NULL, "channel" VARCHAR(16) NOT NULL DEFAULT '
    "'', \"event\" VARCHAR(32) NOT NULL DEFAULT '', \"aggregate_id\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"payload" JSON NOT NULL DEFAULT \'{}\', "status" VARCHAR(8) NOT NULL DEFAULT \'pending\', "attempts" '
    'INTEGER NOT NULL DEFAULT 0, "available_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "lease_owner" '
    'VARCHAR(64) DEFAULT null, "lease_until" TIMESTAMPTZ DEFAULT null, "last_error" TEXT NOT NULL DEFAULT \'\', '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "done_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX outbox_message_channel ON "outbox_message" ("channel")',
    'CREATE INDEX outbox_message_aggregate_id ON "outbox_message" ("aggregate_id")',
    'CREATE INDEX outbox_message_status ON "outbox_message" ("status")',
    'CREATE TABLE "change_counter" ("id" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "value" INTEGER NOT NULL '
    "DEFAULT 0)",
    'CREATE TABLE "change_log" ("seq" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "table_name" VARCHAR(48) NOT NULL '
    "DEFAULT '', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"op\" VARCHAR(8) NOT NULL DEFAULT '', "
    '"actor_id" UUID DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX change_log_row_id ON "change_log" ("row_id")',
    'CREATE TABLE "change_area" ("id" INTEGER PRIMARY KEY NOT NULL, "seq" INTEGER NOT NULL DEFAULT 0, '
    "\"area_path\" VARCHAR(512) NOT NULL DEFAULT '')",
    'CREATE INDEX change_area_seq ON "change_area" ("seq")',
    'CREATE INDEX change_area_area_path ON "change_area" ("area_path")',
]
POSTGRES = [
    'CREATE TABLE "notice" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "thread_id" UUID NOT NULL '
    'DEFAULT gen_random_uuid(), "version" INTEGER NOT NULL DEFAULT 1, "references_id" UUID DEFAULT null, '
    '"msg_type" VARCHAR(8) NOT NULL DEFAULT \'alert\', "status" VARCHAR(16) NOT NULL DEFAULT \'\', "category" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"priority\" VARCHAR(16) NOT NULL DEFAULT '', \"owner_area\" VARCHAR(32) "
    "NOT NULL DEFAULT '', \"owner_path\" VARCHAR(512) NOT NULL DEFAULT '', \"texts\" JSON NOT NULL DEFAULT "
    '\'{}\', "attachments" JSON NOT NULL DEFAULT \'[]\', "valid_from" TIMESTAMPTZ DEFAULT null, "valid_until" '
    'TIMESTAMPTZ DEFAULT null, "created_by" UUID NOT NULL DEFAULT gen_random_uuid(), "approved_by" UUID DEFAULT '
    'null, "published_by" UUID DEFAULT null, "submitted_at" TIMESTAMPTZ DEFAULT null, "approved_at" TIMESTAMPTZ '
    'DEFAULT null, "published_at" TIMESTAMPTZ DEFAULT null, "ended_at" TIMESTAMPTZ DEFAULT null, "end_reason" '
    'VARCHAR(255) NOT NULL DEFAULT \'\', "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT '
    'NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX notice_thread_id ON "notice" USING btree ("thread_id")',
    'CREATE INDEX notice_status ON "notice" USING btree ("status")',
    'CREATE INDEX notice_category ON "notice" USING btree ("category")',
    'CREATE INDEX notice_owner_path ON "notice" USING btree ("owner_path")',
    'CREATE INDEX notice_published_at ON "notice" USING btree ("published_at")',
    'CREATE TABLE "notice_target" ("id" SERIAL PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") '
    "ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, \"area_code\" VARCHAR(32) NOT NULL DEFAULT '', "
    "\"area_path\" VARCHAR(512) NOT NULL DEFAULT '')",
    'CREATE INDEX notice_target_notice ON "notice_target" USING btree ("notice")',
    'CREATE INDEX notice_target_area_code ON "notice_target" USING btree ("area_code")',
    'CREATE INDEX notice_target_area_path ON "notice_target" USING btree ("area_path")',
    'CREATE TABLE "outbox_message" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "channel" VARCHAR(16) NOT NULL DEFAULT '
    "'', \"event\" VARCHAR(32) NOT NULL DEFAULT '', \"aggregate_id\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"payload" JSON NOT NULL DEFAULT \'{}\', "status" VARCHAR(8) NOT NULL DEFAULT \'pending\', "attempts" '
    'INTEGER NOT NULL DEFAULT 0, "available_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "lease_owner" '
    'VARCHAR(64) DEFAULT null, "lease_until" TIMESTAMPTZ DEFAULT null, "last_error" TEXT NOT NULL DEFAULT \'\', '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "done_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX outbox_message_channel ON "outbox_message" USING btree ("channel")',
    'CREATE INDEX outbox_message_aggregate_id ON "outbox_message" USING btree ("aggregate_id")',
    'CREATE INDEX outbox_message_status ON "outbox_message" USING btree ("status")',
    'CREATE TABLE "change_counter" ("id" INTEGER PRIMARY KEY NOT NULL DEFAULT 0, "value" BIGINT NOT NULL '
    "DEFAULT 0)",
    'CREATE TABLE "change_log" ("seq" BIGINT PRIMARY KEY NOT NULL DEFAULT 0, "table_name" VARCHAR(48) NOT NULL '
    "DEFAULT '', \"row_id\" VARCHAR(64) NOT NULL DEFAULT '', \"op\" VARCHAR(8) NOT NULL DEFAULT '', "
    '"actor_id" UUID DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX change_log_row_id ON "change_log" USING btree ("row_id")',
    'CREATE TABLE "change_area" ("id" SERIAL PRIMARY KEY NOT NULL, "seq" BIGINT NOT NULL DEFAULT 0, "area_path" '
    "VARCHAR(512) NOT NULL DEFAULT '')",
    'CREATE INDEX change_area_seq ON "change_area" USING btree ("seq")',
    'CREATE INDEX change_area_area_path ON "change_area" USING btree ("area_path")',
]

_COMMON = [
    'CREATE UNIQUE INDEX notice_thread_version ON "notice" ("thread_id", "version")',
    'CREATE INDEX outbox_message_claim ON "outbox_message" ("status", "available_at", "id")',
    'INSERT INTO "change_counter" ("id", "value") VALUES (1, 0)',
]
SQLITE += _COMMON
POSTGRES += [
    *_COMMON,
    'CREATE INDEX notice_owner_path_prefix ON "notice" ("owner_path" varchar_pattern_ops)',
    'CREATE INDEX notice_target_path_prefix ON "notice_target" ("area_path" varchar_pattern_ops)',
    'CREATE INDEX change_area_path_prefix ON "change_area" ("area_path" varchar_pattern_ops)',
]
