"""The upstream link: notices pulled from an upstream source system, statistics reports sent to it,
and — on an instance others follow — registered downstream systems and the reports they sent."""

SQLITE = [
    'CREATE TABLE "upstream_notice" ("id" UUID PRIMARY KEY NOT NULL, "thread_id" UUID NOT NULL, "version" '
    'INTEGER NOT NULL DEFAULT 1, "references_id" UUID DEFAULT null, "msg_type" VARCHAR(8) NOT NULL DEFAULT '
    "'alert', \"status\" VARCHAR(16) NOT NULL DEFAULT '', \"category\" VARCHAR(32) NOT NULL DEFAULT '', "
    '"priority" VARCHAR(16) NOT NULL DEFAULT \'\', "texts" JSON NOT NULL DEFAULT \'{}\', "attachments" JSON NOT '
    "NULL DEFAULT '[]', \"target_areas\" JSON NOT NULL DEFAULT '[]', \"valid_from\" TIMESTAMPTZ DEFAULT null, "
    '"valid_until" TIMESTAMPTZ DEFAULT null, "published_at" TIMESTAMPTZ DEFAULT null, "ended_at" TIMESTAMPTZ '
    'DEFAULT null, "cap_identifier" VARCHAR(128) NOT NULL DEFAULT \'\', "sender" VARCHAR(255) NOT NULL DEFAULT '
    "'', \"upstream_seq\" INTEGER NOT NULL DEFAULT 0, \"adoption\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"local_notice_id" UUID DEFAULT null, "adopted_by" UUID DEFAULT null, "adopted_at" TIMESTAMPTZ DEFAULT '
    'null, "received_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX upstream_notice_thread_id ON "upstream_notice" ("thread_id")',
    'CREATE INDEX upstream_notice_local_notice_id ON "upstream_notice" ("local_notice_id")',
    'CREATE TABLE "upstream_link" ("url" VARCHAR(512) PRIMARY KEY NOT NULL DEFAULT \'\', "cursor" VARCHAR(64) '
    'NOT NULL DEFAULT \'0\', "last_attempt_at" TIMESTAMPTZ DEFAULT null, "last_success_at" TIMESTAMPTZ DEFAULT '
    'null, "last_error" TEXT NOT NULL DEFAULT \'\', "failures" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "upstream_report" ("period" VARCHAR(16) PRIMARY KEY NOT NULL DEFAULT \'\', "period_start" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "period_end" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "envelope" TEXT NOT NULL DEFAULT \'\', "payload_sha256" VARCHAR(64) NOT NULL DEFAULT '
    "'', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', \"attempts\" INTEGER NOT NULL DEFAULT 0, "
    '"last_error" TEXT NOT NULL DEFAULT \'\', "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"accepted_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX upstream_report_status ON "upstream_report" ("status")',
    'CREATE TABLE "downstream_system" ("province_code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"keys\" JSON NOT NULL DEFAULT '[]', \"created_at\" TIMESTAMPTZ NOT NULL "
    'DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "downstream_report" ("id" INTEGER PRIMARY KEY NOT NULL, "province_code" VARCHAR(32) NOT NULL '
    "DEFAULT '', \"period\" VARCHAR(16) NOT NULL DEFAULT '', \"generated_at\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "payload" JSON NOT NULL DEFAULT \'{}\', "payload_sha256" VARCHAR(64) NOT NULL DEFAULT '
    "'', \"kid\" VARCHAR(64) NOT NULL DEFAULT '', \"received_at\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]
POSTGRES = [
    'CREATE TABLE "upstream_notice" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "thread_id" UUID '
    'NOT NULL DEFAULT gen_random_uuid(), "version" INTEGER NOT NULL DEFAULT 1, "references_id" UUID DEFAULT '
    "null, \"msg_type\" VARCHAR(8) NOT NULL DEFAULT 'alert', \"status\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"category" VARCHAR(32) NOT NULL DEFAULT \'\', "priority" VARCHAR(16) NOT NULL DEFAULT \'\', "texts" JSON '
    "NOT NULL DEFAULT '{}', \"attachments\" JSON NOT NULL DEFAULT '[]', \"target_areas\" JSON NOT NULL DEFAULT "
    '\'[]\', "valid_from" TIMESTAMPTZ DEFAULT null, "valid_until" TIMESTAMPTZ DEFAULT null, "published_at" '
    'TIMESTAMPTZ DEFAULT null, "ended_at" TIMESTAMPTZ DEFAULT null, "cap_identifier" VARCHAR(128) NOT NULL '
    "DEFAULT '', \"sender\" VARCHAR(255) NOT NULL DEFAULT '', \"upstream_seq\" BIGINT NOT NULL DEFAULT 0, "
    '"adoption" VARCHAR(16) NOT NULL DEFAULT \'\', "local_notice_id" UUID DEFAULT null, "adopted_by" UUID '
    'DEFAULT null, "adopted_at" TIMESTAMPTZ DEFAULT null, "received_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX upstream_notice_thread_id ON "upstream_notice" USING btree ("thread_id")',
    'CREATE INDEX upstream_notice_local_notice_id ON "upstream_notice" USING btree ("local_notice_id")',
    'CREATE TABLE "upstream_link" ("url" VARCHAR(512) PRIMARY KEY NOT NULL DEFAULT \'\', "cursor" VARCHAR(64) '
    'NOT NULL DEFAULT \'0\', "last_attempt_at" TIMESTAMPTZ DEFAULT null, "last_success_at" TIMESTAMPTZ DEFAULT '
    'null, "last_error" TEXT NOT NULL DEFAULT \'\', "failures" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "upstream_report" ("period" VARCHAR(16) PRIMARY KEY NOT NULL DEFAULT \'\', "period_start" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "period_end" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "envelope" TEXT NOT NULL DEFAULT \'\', "payload_sha256" VARCHAR(64) NOT NULL DEFAULT '
    "'', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', \"attempts\" INTEGER NOT NULL DEFAULT 0, "
    '"last_error" TEXT NOT NULL DEFAULT \'\', "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"accepted_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX upstream_report_status ON "upstream_report" USING btree ("status")',
    'CREATE TABLE "downstream_system" ("province_code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"keys\" JSON NOT NULL DEFAULT '[]', \"created_at\" TIMESTAMPTZ NOT NULL "
    'DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "downstream_report" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "province_code" VARCHAR(32) NOT '
    "NULL DEFAULT '', \"period\" VARCHAR(16) NOT NULL DEFAULT '', \"generated_at\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "payload" JSON NOT NULL DEFAULT \'{}\', "payload_sha256" VARCHAR(64) NOT NULL DEFAULT '
    "'', \"kid\" VARCHAR(64) NOT NULL DEFAULT '', \"received_at\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]

_COMMON = [
    'CREATE INDEX upstream_notice_references ON "upstream_notice" ("references_id")',
    'CREATE UNIQUE INDEX downstream_report_once ON "downstream_report" ("province_code", "period")',
]
SQLITE += _COMMON
POSTGRES += _COMMON
