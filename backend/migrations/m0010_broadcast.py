"""Broadcast: stations, groups, week schedules, programme items, planned sessions, signed manifests,
media and the broadcast log."""

SQLITE = [
    'CREATE TABLE "broadcast_station" ("id" UUID PRIMARY KEY NOT NULL, "area_code" VARCHAR(32) UNIQUE NOT NULL '
    "DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', \"name\" VARCHAR(255) NOT NULL DEFAULT '', "
    '"setting" VARCHAR(8) NOT NULL DEFAULT \'rural\', "rules" JSON NOT NULL DEFAULT \'{}\', "rules_version" '
    'INTEGER NOT NULL DEFAULT 1, "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_station_area_path ON "broadcast_station" ("area_path")',
    'CREATE TABLE "broadcast_group" ("id" UUID PRIMARY KEY NOT NULL, "station_id" UUID NOT NULL, "name" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"area_codes\" JSON NOT NULL DEFAULT '[]', \"is_default\" BOOLEAN NOT "
    'NULL DEFAULT false, "near_border" BOOLEAN NOT NULL DEFAULT false, "eboard" JSON NOT NULL DEFAULT \'{}\', '
    '"row_version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_group_station_id ON "broadcast_group" ("station_id")',
    'CREATE TABLE "broadcast_schedule" ("id" INTEGER PRIMARY KEY NOT NULL, "station_id" UUID NOT NULL, '
    '"version" INTEGER NOT NULL DEFAULT 1, "sessions" JSON NOT NULL DEFAULT \'[]\', "note" TEXT NOT NULL '
    'DEFAULT \'\', "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_schedule_station_id ON "broadcast_schedule" ("station_id")',
    'CREATE TABLE "broadcast_item" ("id" UUID PRIMARY KEY NOT NULL, "station_id" UUID NOT NULL, "kind" '
    'VARCHAR(16) NOT NULL DEFAULT \'\', "notice_thread_id" UUID DEFAULT null, "media_sha256" VARCHAR(64) NOT '
    "NULL DEFAULT '', \"relay_url\" VARCHAR(2000) NOT NULL DEFAULT '', \"title\" VARCHAR(255) NOT NULL DEFAULT "
    '\'\', "duration_ms" INTEGER NOT NULL DEFAULT 0, "position" INTEGER NOT NULL DEFAULT 0, "plays" INTEGER NOT '
    'NULL DEFAULT 1, "group_ids" JSON NOT NULL DEFAULT \'[]\', "eboard_priority" INTEGER NOT NULL DEFAULT 0, '
    '"daypart" VARCHAR(32) NOT NULL DEFAULT \'\', "valid_from" TIMESTAMPTZ DEFAULT null, "valid_until" '
    'TIMESTAMPTZ DEFAULT null, "status" VARCHAR(12) NOT NULL DEFAULT \'active\', "source_ref" VARCHAR(64) NOT '
    'NULL DEFAULT \'\', "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_item_station_id ON "broadcast_item" ("station_id")',
    'CREATE INDEX broadcast_item_notice_thread_id ON "broadcast_item" ("notice_thread_id")',
    'CREATE TABLE "broadcast_session" ("id" UUID PRIMARY KEY NOT NULL, "station_id" UUID NOT NULL, "group_id" '
    'UUID NOT NULL, "starts_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ends_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "schedule_version" INTEGER NOT NULL DEFAULT 0, "entries" JSON NOT NULL DEFAULT '
    '\'[]\', "planned_ms" INTEGER NOT NULL DEFAULT 0, "manifest_id" UUID DEFAULT null, "created_at" TIMESTAMPTZ '
    "NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX broadcast_session_station_id ON "broadcast_session" ("station_id")',
    'CREATE INDEX broadcast_session_group_id ON "broadcast_session" ("group_id")',
    'CREATE INDEX broadcast_session_starts_at ON "broadcast_session" ("starts_at")',
    'CREATE TABLE "broadcast_manifest" ("id" UUID PRIMARY KEY NOT NULL, "scope" VARCHAR(80) NOT NULL DEFAULT '
    '\'\', "kind" VARCHAR(12) NOT NULL DEFAULT \'\', "station_id" UUID DEFAULT null, "group_id" UUID DEFAULT '
    'null, "thread_id" UUID DEFAULT null, "version" INTEGER NOT NULL DEFAULT 1, "area_codes" JSON NOT NULL '
    "DEFAULT '[]', \"notice_ids\" JSON NOT NULL DEFAULT '[]', \"content_hash\" VARCHAR(64) NOT NULL DEFAULT "
    "'', \"envelope\" TEXT NOT NULL DEFAULT '', \"issued_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "
    '"valid_from" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "valid_until" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "ended" BOOLEAN NOT NULL DEFAULT false, "current" BOOLEAN NOT NULL DEFAULT true, '
    '"published_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX broadcast_manifest_scope ON "broadcast_manifest" ("scope")',
    'CREATE INDEX broadcast_manifest_group_id ON "broadcast_manifest" ("group_id")',
    'CREATE INDEX broadcast_manifest_thread_id ON "broadcast_manifest" ("thread_id")',
    'CREATE INDEX broadcast_manifest_valid_until ON "broadcast_manifest" ("valid_until")',
    'CREATE TABLE "broadcast_media" ("sha256" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "render_key" '
    "VARCHAR(64) NOT NULL DEFAULT '', \"kind\" VARCHAR(16) NOT NULL DEFAULT '', \"mime\" VARCHAR(64) NOT NULL "
    'DEFAULT \'\', "size" INTEGER NOT NULL DEFAULT 0, "duration_ms" INTEGER NOT NULL DEFAULT 0, "filename" '
    "VARCHAR(128) NOT NULL DEFAULT '', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX broadcast_media_render_key ON "broadcast_media" ("render_key")',
    'CREATE TABLE "broadcast_play" ("id" INTEGER PRIMARY KEY NOT NULL, "station_id" UUID DEFAULT null, '
    '"group_id" UUID DEFAULT null, "device_id" VARCHAR(64) NOT NULL DEFAULT \'\', "report_id" VARCHAR(64) NOT '
    "NULL DEFAULT '', \"source\" VARCHAR(8) NOT NULL DEFAULT 'device', \"manifest_id\" UUID DEFAULT null, "
    '"manifest_kind" VARCHAR(12) NOT NULL DEFAULT \'\', "session_id" UUID DEFAULT null, "item_id" VARCHAR(64) '
    "NOT NULL DEFAULT '', \"notice_id\" UUID DEFAULT null, \"media_sha256\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"started_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ended_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp, \"result\" VARCHAR(12) NOT NULL DEFAULT '', \"detail\" TEXT NOT NULL DEFAULT '', "
    '"recorded_by" UUID DEFAULT null, "recorded_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_play_station_id ON "broadcast_play" ("station_id")',
    'CREATE INDEX broadcast_play_group_id ON "broadcast_play" ("group_id")',
    'CREATE INDEX broadcast_play_session_id ON "broadcast_play" ("session_id")',
    'CREATE INDEX broadcast_play_notice_id ON "broadcast_play" ("notice_id")',
    'CREATE INDEX broadcast_play_started_at ON "broadcast_play" ("started_at")',
    'CREATE TABLE "broadcast_emergency" ("thread_id" UUID PRIMARY KEY NOT NULL, "notice_id" UUID NOT NULL, '
    '"version" INTEGER NOT NULL DEFAULT 1, "area_codes" JSON NOT NULL DEFAULT \'[]\', "repeat" INTEGER NOT NULL '
    'DEFAULT 3, "interval_s" INTEGER NOT NULL DEFAULT 300, "started_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "ends_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ended_at" TIMESTAMPTZ '
    "DEFAULT null)",
]
POSTGRES = [
    'CREATE TABLE "broadcast_station" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "area_code" '
    "VARCHAR(32) UNIQUE NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', \"name\" "
    "VARCHAR(255) NOT NULL DEFAULT '', \"setting\" VARCHAR(8) NOT NULL DEFAULT 'rural', \"rules\" JSON NOT NULL "
    'DEFAULT \'{}\', "rules_version" INTEGER NOT NULL DEFAULT 1, "row_version" INTEGER NOT NULL DEFAULT 1, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX broadcast_station_area_path ON "broadcast_station" USING btree ("area_path")',
    'CREATE TABLE "broadcast_group" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "station_id" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "name" VARCHAR(255) NOT NULL DEFAULT \'\', "area_codes" JSON NOT '
    'NULL DEFAULT \'[]\', "is_default" BOOLEAN NOT NULL DEFAULT false, "near_border" BOOLEAN NOT NULL DEFAULT '
    'false, "eboard" JSON NOT NULL DEFAULT \'{}\', "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX broadcast_group_station_id ON "broadcast_group" USING btree ("station_id")',
    'CREATE TABLE "broadcast_schedule" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "station_id" UUID NOT NULL DEFAULT '
    'gen_random_uuid(), "version" INTEGER NOT NULL DEFAULT 1, "sessions" JSON NOT NULL DEFAULT \'[]\', "note" '
    'TEXT NOT NULL DEFAULT \'\', "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX broadcast_schedule_station_id ON "broadcast_schedule" USING btree ("station_id")',
    'CREATE TABLE "broadcast_item" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "station_id" UUID '
    'NOT NULL DEFAULT gen_random_uuid(), "kind" VARCHAR(16) NOT NULL DEFAULT \'\', "notice_thread_id" UUID '
    'DEFAULT null, "media_sha256" VARCHAR(64) NOT NULL DEFAULT \'\', "relay_url" VARCHAR(2000) NOT NULL DEFAULT '
    '\'\', "title" VARCHAR(255) NOT NULL DEFAULT \'\', "duration_ms" INTEGER NOT NULL DEFAULT 0, "position" '
    'INTEGER NOT NULL DEFAULT 0, "plays" INTEGER NOT NULL DEFAULT 1, "group_ids" JSON NOT NULL DEFAULT \'[]\', '
    '"eboard_priority" INTEGER NOT NULL DEFAULT 0, "daypart" VARCHAR(32) NOT NULL DEFAULT \'\', "valid_from" '
    'TIMESTAMPTZ DEFAULT null, "valid_until" TIMESTAMPTZ DEFAULT null, "status" VARCHAR(12) NOT NULL DEFAULT '
    '\'active\', "source_ref" VARCHAR(64) NOT NULL DEFAULT \'\', "created_by" UUID DEFAULT null, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX broadcast_item_station_id ON "broadcast_item" USING btree ("station_id")',
    'CREATE INDEX broadcast_item_notice_thread_id ON "broadcast_item" USING btree ("notice_thread_id")',
    'CREATE TABLE "broadcast_session" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "station_id" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "group_id" UUID NOT NULL DEFAULT gen_random_uuid(), "starts_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ends_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"schedule_version" INTEGER NOT NULL DEFAULT 0, "entries" JSON NOT NULL DEFAULT \'[]\', "planned_ms" '
    'INTEGER NOT NULL DEFAULT 0, "manifest_id" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX broadcast_session_station_id ON "broadcast_session" USING btree ("station_id")',
    'CREATE INDEX broadcast_session_group_id ON "broadcast_session" USING btree ("group_id")',
    'CREATE INDEX broadcast_session_starts_at ON "broadcast_session" USING btree ("starts_at")',
    'CREATE TABLE "broadcast_manifest" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "scope" '
    "VARCHAR(80) NOT NULL DEFAULT '', \"kind\" VARCHAR(12) NOT NULL DEFAULT '', \"station_id\" UUID DEFAULT "
    'null, "group_id" UUID DEFAULT null, "thread_id" UUID DEFAULT null, "version" INTEGER NOT NULL DEFAULT 1, '
    '"area_codes" JSON NOT NULL DEFAULT \'[]\', "notice_ids" JSON NOT NULL DEFAULT \'[]\', "content_hash" '
    "VARCHAR(64) NOT NULL DEFAULT '', \"envelope\" TEXT NOT NULL DEFAULT '', \"issued_at\" TIMESTAMPTZ NOT NULL "
    'DEFAULT current_timestamp, "valid_from" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "valid_until" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ended" BOOLEAN NOT NULL DEFAULT false, "current" BOOLEAN '
    'NOT NULL DEFAULT true, "published_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX broadcast_manifest_scope ON "broadcast_manifest" USING btree ("scope")',
    'CREATE INDEX broadcast_manifest_group_id ON "broadcast_manifest" USING btree ("group_id")',
    'CREATE INDEX broadcast_manifest_thread_id ON "broadcast_manifest" USING btree ("thread_id")',
    'CREATE INDEX broadcast_manifest_valid_until ON "broadcast_manifest" USING btree ("valid_until")',
    'CREATE TABLE "broadcast_media" ("sha256" VARCHAR(64) PRIMARY KEY NOT NULL DEFAULT \'\', "render_key" '
    "VARCHAR(64) NOT NULL DEFAULT '', \"kind\" VARCHAR(16) NOT NULL DEFAULT '', \"mime\" VARCHAR(64) NOT NULL "
    'DEFAULT \'\', "size" INTEGER NOT NULL DEFAULT 0, "duration_ms" INTEGER NOT NULL DEFAULT 0, "filename" '
    "VARCHAR(128) NOT NULL DEFAULT '', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX broadcast_media_render_key ON "broadcast_media" USING btree ("render_key")',
    'CREATE TABLE "broadcast_play" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "station_id" UUID DEFAULT null, '
    '"group_id" UUID DEFAULT null, "device_id" VARCHAR(64) NOT NULL DEFAULT \'\', "report_id" VARCHAR(64) NOT '
    "NULL DEFAULT '', \"source\" VARCHAR(8) NOT NULL DEFAULT 'device', \"manifest_id\" UUID DEFAULT null, "
    '"manifest_kind" VARCHAR(12) NOT NULL DEFAULT \'\', "session_id" UUID DEFAULT null, "item_id" VARCHAR(64) '
    "NOT NULL DEFAULT '', \"notice_id\" UUID DEFAULT null, \"media_sha256\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"started_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ended_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp, \"result\" VARCHAR(12) NOT NULL DEFAULT '', \"detail\" TEXT NOT NULL DEFAULT '', "
    '"recorded_by" UUID DEFAULT null, "recorded_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX broadcast_play_station_id ON "broadcast_play" USING btree ("station_id")',
    'CREATE INDEX broadcast_play_group_id ON "broadcast_play" USING btree ("group_id")',
    'CREATE INDEX broadcast_play_session_id ON "broadcast_play" USING btree ("session_id")',
    'CREATE INDEX broadcast_play_notice_id ON "broadcast_play" USING btree ("notice_id")',
    'CREATE INDEX broadcast_play_started_at ON "broadcast_play" USING btree ("started_at")',
    'CREATE TABLE "broadcast_emergency" ("thread_id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), '
    '"notice_id" UUID NOT NULL DEFAULT gen_random_uuid(), "version" INTEGER NOT NULL DEFAULT 1, "area_codes" '
    'JSON NOT NULL DEFAULT \'[]\', "repeat" INTEGER NOT NULL DEFAULT 3, "interval_s" INTEGER NOT NULL DEFAULT '
    '300, "started_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ends_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "ended_at" TIMESTAMPTZ DEFAULT null)',
]

SQLITE += [
    'CREATE TABLE "broadcast_plan" ("station_id" UUID PRIMARY KEY NOT NULL, "compiled_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "horizon_start" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "horizon_end" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "schedule_version" INTEGER NOT NULL DEFAULT 0, "rules_version" INTEGER NOT NULL DEFAULT 0, "moved" JSON NOT NULL DEFAULT \'[]\', "unplaced" JSON NOT NULL DEFAULT \'[]\')'
]
POSTGRES += [
    'CREATE TABLE "broadcast_plan" ("station_id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "compiled_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "horizon_start" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "horizon_end" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "schedule_version" INTEGER NOT NULL DEFAULT 0, "rules_version" INTEGER NOT NULL DEFAULT 0, "moved" JSON NOT NULL DEFAULT \'[]\', "unplaced" JSON NOT NULL DEFAULT \'[]\')'
]

_COMMON = [
    'CREATE UNIQUE INDEX broadcast_schedule_station_version ON "broadcast_schedule" ("station_id", "version")',
    'CREATE UNIQUE INDEX broadcast_manifest_scope_version ON "broadcast_manifest" ("scope", "version")',
    'CREATE UNIQUE INDEX broadcast_session_group_start ON "broadcast_session" ("group_id", "starts_at")',
    'CREATE UNIQUE INDEX broadcast_play_device_report ON "broadcast_play" ("device_id", "report_id")',
    'CREATE INDEX broadcast_item_station_position ON "broadcast_item" ("station_id", "status", "position")',
]
SQLITE += _COMMON
POSTGRES += _COMMON
