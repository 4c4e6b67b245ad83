"""Citizen feedback: reports, their media and history, and Open311 client keys."""

SQLITE = [
    'CREATE TABLE "feedback" ("id" UUID PRIMARY KEY NOT NULL, "token" VARCHAR(32) UNIQUE NOT NULL DEFAULT \'\', '
    '"client_id" VARCHAR(64) DEFAULT null, "account" UUID REFERENCES "account" ("id") ON DELETE SET NULL ON '
    'UPDATE CASCADE DEFAULT null, "source" VARCHAR(16) NOT NULL DEFAULT \'app\', "api_key" UUID DEFAULT null, '
    '"category" VARCHAR(32) NOT NULL DEFAULT \'\', "area_code" VARCHAR(32) DEFAULT null, "area_path" '
    'VARCHAR(512) DEFAULT null, "lat" DOUBLE PRECISION DEFAULT null, "long" DOUBLE PRECISION DEFAULT null, '
    '"address" VARCHAR(512) NOT NULL DEFAULT \'\', "media_url" VARCHAR(1024) NOT NULL DEFAULT \'\', "text" TEXT '
    "NOT NULL DEFAULT '', \"anonymous\" BOOLEAN NOT NULL DEFAULT true, \"contact\" JSON NOT NULL DEFAULT '{}', "
    "\"status\" VARCHAR(24) NOT NULL DEFAULT 'received', \"fingerprint\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"rating" INTEGER DEFAULT null, "answered_at" TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX feedback_account ON "feedback" ("account")',
    'CREATE INDEX feedback_category ON "feedback" ("category")',
    'CREATE INDEX feedback_area_path ON "feedback" ("area_path")',
    'CREATE INDEX feedback_status ON "feedback" ("status")',
    'CREATE INDEX feedback_created_at ON "feedback" ("created_at")',
    'CREATE TABLE "feedback_media" ("id" UUID PRIMARY KEY NOT NULL, "feedback" UUID REFERENCES "feedback" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "position" INTEGER NOT NULL DEFAULT 0, "kind" '
    "VARCHAR(8) NOT NULL DEFAULT '', \"sha256\" VARCHAR(64) NOT NULL DEFAULT '', \"size\" INTEGER NOT NULL "
    'DEFAULT 0, "mime" VARCHAR(64) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX feedback_media_feedback ON "feedback_media" ("feedback")',
    'CREATE INDEX feedback_media_sha256 ON "feedback_media" ("sha256")',
    'CREATE TABLE "feedback_event" ("id" INTEGER PRIMARY KEY NOT NULL, "feedback" UUID REFERENCES "feedback" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "kind" VARCHAR(24) NOT NULL DEFAULT \'\', "from_status" VARCHAR(24) NOT NULL DEFAULT '
    "'', \"to_status\" VARCHAR(24) NOT NULL DEFAULT '', \"text\" TEXT NOT NULL DEFAULT '', \"rating\" INTEGER "
    'DEFAULT null, "public" BOOLEAN NOT NULL DEFAULT true, "actor_id" UUID DEFAULT null, "actor_role" '
    "VARCHAR(32) NOT NULL DEFAULT '')",
    'CREATE INDEX feedback_event_feedback ON "feedback_event" ("feedback")',
    'CREATE TABLE "open311_api_key" ("id" UUID PRIMARY KEY NOT NULL, "name" VARCHAR(128) NOT NULL DEFAULT \'\', '
    '"digest" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "active" BOOLEAN NOT NULL DEFAULT true, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "last_used_at" TIMESTAMPTZ DEFAULT null)',
]
POSTGRES = [
    'CREATE TABLE "feedback" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "token" VARCHAR(32) '
    'UNIQUE NOT NULL DEFAULT \'\', "client_id" VARCHAR(64) DEFAULT null, "account" UUID REFERENCES "account" '
    '("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null, "source" VARCHAR(16) NOT NULL DEFAULT \'app\', '
    '"api_key" UUID DEFAULT null, "category" VARCHAR(32) NOT NULL DEFAULT \'\', "area_code" VARCHAR(32) DEFAULT '
    'null, "area_path" VARCHAR(512) DEFAULT null, "lat" DOUBLE PRECISION DEFAULT null, "long" DOUBLE PRECISION '
    'DEFAULT null, "address" VARCHAR(512) NOT NULL DEFAULT \'\', "media_url" VARCHAR(1024) NOT NULL DEFAULT '
    '\'\', "text" TEXT NOT NULL DEFAULT \'\', "anonymous" BOOLEAN NOT NULL DEFAULT true, "contact" JSON NOT '
    "NULL DEFAULT '{}', \"status\" VARCHAR(24) NOT NULL DEFAULT 'received', \"fingerprint\" VARCHAR(64) NOT "
    'NULL DEFAULT \'\', "rating" INTEGER DEFAULT null, "answered_at" TIMESTAMPTZ DEFAULT null, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX feedback_account ON "feedback" USING btree ("account")',
    'CREATE INDEX feedback_category ON "feedback" USING btree ("category")',
    'CREATE INDEX feedback_area_path ON "feedback" USING btree ("area_path")',
    'CREATE INDEX feedback_status ON "feedback" USING btree ("status")',
    'CREATE INDEX feedback_created_at ON "feedback" USING btree ("created_at")',
    'CREATE TABLE "feedback_media" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "feedback" UUID '
    'REFERENCES "feedback" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "position" INTEGER NOT NULL '
    'DEFAULT 0, "kind" VARCHAR(8) NOT NULL DEFAULT \'\', "sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "size" '
    'INTEGER NOT NULL DEFAULT 0, "mime" VARCHAR(64) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX feedback_media_feedback ON "feedback_media" USING btree ("feedback")',
    'CREATE INDEX feedback_media_sha256 ON "feedback_media" USING btree ("sha256")',
    'CREATE TABLE "feedback_event" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "feedback" UUID REFERENCES "feedback" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "kind" VARCHAR(24) NOT NULL DEFAULT \'\', "from_status" VARCHAR(24) NOT NULL DEFAULT '
    "'', \"to_status\" VARCHAR(24) NOT NULL DEFAULT '', \"text\" TEXT NOT NULL DEFAULT '', \"rating\" INTEGER "
    'DEFAULT null, "public" BOOLEAN NOT NULL DEFAULT true, "actor_id" UUID DEFAULT null, "actor_role" '
    "VARCHAR(32) NOT NULL DEFAULT '')",
    'CREATE INDEX feedback_event_feedback ON "feedback_event" USING btree ("feedback")',
    'CREATE TABLE "open311_api_key" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "name" '
    "VARCHAR(128) NOT NULL DEFAULT '', \"digest\" VARCHAR(64) UNIQUE NOT NULL DEFAULT '', \"active\" BOOLEAN "
    'NOT NULL DEFAULT true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "last_used_at" '
    "TIMESTAMPTZ DEFAULT null)",
]

_COMMON = [
    # One report per (account, client-generated id): a retry finds the stored report.
    'CREATE UNIQUE INDEX feedback_account_client_id ON "feedback" ("account", "client_id")',
    'CREATE INDEX feedback_event_feedback_id ON "feedback_event" ("feedback", "id")',
    'CREATE INDEX feedback_account_created ON "feedback" ("account", "created_at")',
]
SQLITE += _COMMON
POSTGRES += [
    *_COMMON,
    'CREATE INDEX feedback_area_path_prefix ON "feedback" ("area_path" varchar_pattern_ops)',
]
