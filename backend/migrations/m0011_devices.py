"""Devices: registry, credentials and claim codes, presence history, alarms, commands and staff
notifications about device alarms."""

SQLITE = [
    'CREATE TABLE "device" ("id" UUID PRIMARY KEY NOT NULL, "kind" VARCHAR(12) NOT NULL DEFAULT \'\', "name" '
    'VARCHAR(255) NOT NULL DEFAULT \'\', "hardware_id" VARCHAR(128) UNIQUE DEFAULT null, "area_code" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', \"station_id\" UUID "
    'DEFAULT null, "group_id" UUID DEFAULT null, "latitude" DOUBLE PRECISION DEFAULT null, "longitude" DOUBLE '
    'PRECISION DEFAULT null, "capabilities" JSON NOT NULL DEFAULT \'{}\', "firmware" VARCHAR(64) NOT NULL '
    "DEFAULT '', \"notes\" TEXT NOT NULL DEFAULT '', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', "
    '"claimed_at" TIMESTAMPTZ DEFAULT null, "state" VARCHAR(12) NOT NULL DEFAULT \'unknown\', "state_since" '
    'TIMESTAMPTZ DEFAULT null, "connected" BOOLEAN NOT NULL DEFAULT false, "last_activity_at" TIMESTAMPTZ '
    'DEFAULT null, "desired" JSON NOT NULL DEFAULT \'{}\', "desired_version" INTEGER NOT NULL DEFAULT 0, '
    '"reported" JSON NOT NULL DEFAULT \'{}\', "reported_version" INTEGER NOT NULL DEFAULT 0, "reported_at" '
    'TIMESTAMPTZ DEFAULT null, "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX device_area_code ON "device" ("area_code")',
    'CREATE INDEX device_area_path ON "device" ("area_path")',
    'CREATE INDEX device_group_id ON "device" ("group_id")',
    'CREATE INDEX device_state ON "device" ("state")',
    'CREATE TABLE "device_credential" ("id" UUID PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL, "version" '
    'INTEGER NOT NULL DEFAULT 1, "password_hash" VARCHAR(255) NOT NULL DEFAULT \'\', "broker_hash" VARCHAR(255) '
    'NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "created_by" UUID '
    'DEFAULT null, "revoked_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX device_credential_device_id ON "device_credential" ("device_id")',
    'CREATE TABLE "device_claim" ("id" UUID PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL, "code_digest" '
    "VARCHAR(64) UNIQUE NOT NULL DEFAULT '', \"expires_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "
    '"used_at" TIMESTAMPTZ DEFAULT null, "used_by_hardware" VARCHAR(128) NOT NULL DEFAULT \'\', "created_by" '
    'UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX device_claim_device_id ON "device_claim" ("device_id")',
    'CREATE TABLE "device_state_change" ("id" INTEGER PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL, "state" '
    "VARCHAR(12) NOT NULL DEFAULT '', \"previous\" VARCHAR(12) NOT NULL DEFAULT '', \"reason\" VARCHAR(255) NOT "
    "NULL DEFAULT '', \"at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX device_state_change_device_id ON "device_state_change" ("device_id")',
    'CREATE INDEX device_state_change_at ON "device_state_change" ("at")',
    'CREATE TABLE "device_alarm" ("id" UUID PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL, "type" VARCHAR(32) '
    "NOT NULL DEFAULT '', \"severity\" VARCHAR(12) NOT NULL DEFAULT '', \"active\" BOOLEAN NOT NULL DEFAULT "
    'true, "acknowledged" BOOLEAN NOT NULL DEFAULT false, "open_key" VARCHAR(80) UNIQUE DEFAULT null, "details" '
    'JSON NOT NULL DEFAULT \'{}\', "occurrences" INTEGER NOT NULL DEFAULT 1, "raised_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "cleared_at" TIMESTAMPTZ DEFAULT null, "acknowledged_at" TIMESTAMPTZ DEFAULT '
    'null, "acknowledged_by" UUID DEFAULT null)',
    'CREATE INDEX device_alarm_device_id ON "device_alarm" ("device_id")',
    'CREATE TABLE "device_command" ("id" UUID PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL, "kind" '
    "VARCHAR(24) NOT NULL DEFAULT '', \"params\" JSON NOT NULL DEFAULT '{}', \"status\" VARCHAR(12) NOT NULL "
    'DEFAULT \'queued\', "persistent" BOOLEAN NOT NULL DEFAULT true, "request_key" VARCHAR(80) UNIQUE DEFAULT '
    'null, "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "reply_deadline" TIMESTAMPTZ DEFAULT '
    'null, "attempts" INTEGER NOT NULL DEFAULT 0, "result" JSON NOT NULL DEFAULT \'{}\', "created_by" UUID '
    'DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "sent_at" TIMESTAMPTZ DEFAULT '
    'null, "delivered_at" TIMESTAMPTZ DEFAULT null, "finished_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX device_command_device_id ON "device_command" ("device_id")',
    'CREATE INDEX device_command_status ON "device_command" ("status")',
    'CREATE TABLE "device_staff_notification" ("id" INTEGER PRIMARY KEY NOT NULL, "account_id" UUID NOT NULL, '
    '"alarm_id" UUID DEFAULT null, "device_id" UUID DEFAULT null, "dedupe_key" VARCHAR(160) UNIQUE NOT NULL '
    "DEFAULT '', \"title\" VARCHAR(255) NOT NULL DEFAULT '', \"body\" TEXT NOT NULL DEFAULT '', \"pushed\" "
    'INTEGER NOT NULL DEFAULT 0, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "read_at" '
    "TIMESTAMPTZ DEFAULT null)",
    'CREATE INDEX device_staff_notification_account_id ON "device_staff_notification" ("account_id")',
]
POSTGRES = [
    'CREATE TABLE "device" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "kind" VARCHAR(12) NOT '
    "NULL DEFAULT '', \"name\" VARCHAR(255) NOT NULL DEFAULT '', \"hardware_id\" VARCHAR(128) UNIQUE DEFAULT "
    "null, \"area_code\" VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', "
    '"station_id" UUID DEFAULT null, "group_id" UUID DEFAULT null, "latitude" DOUBLE PRECISION DEFAULT null, '
    '"longitude" DOUBLE PRECISION DEFAULT null, "capabilities" JSON NOT NULL DEFAULT \'{}\', "firmware" '
    "VARCHAR(64) NOT NULL DEFAULT '', \"notes\" TEXT NOT NULL DEFAULT '', \"status\" VARCHAR(12) NOT NULL "
    'DEFAULT \'pending\', "claimed_at" TIMESTAMPTZ DEFAULT null, "state" VARCHAR(12) NOT NULL DEFAULT '
    '\'unknown\', "state_since" TIMESTAMPTZ DEFAULT null, "connected" BOOLEAN NOT NULL DEFAULT false, '
    '"last_activity_at" TIMESTAMPTZ DEFAULT null, "desired" JSON NOT NULL DEFAULT \'{}\', "desired_version" '
    'INTEGER NOT NULL DEFAULT 0, "reported" JSON NOT NULL DEFAULT \'{}\', "reported_version" INTEGER NOT NULL '
    'DEFAULT 0, "reported_at" TIMESTAMPTZ DEFAULT null, "row_version" INTEGER NOT NULL DEFAULT 1, "created_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX device_area_code ON "device" USING btree ("area_code")',
    'CREATE INDEX device_area_path ON "device" USING btree ("area_path")',
    'CREATE INDEX device_group_id ON "device" USING btree ("group_id")',
    'CREATE INDEX device_state ON "device" USING btree ("state")',
    'CREATE TABLE "device_credential" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "device_id" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "version" INTEGER NOT NULL DEFAULT 1, "password_hash" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"broker_hash\" VARCHAR(255) NOT NULL DEFAULT '', \"created_at\" "
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "created_by" UUID DEFAULT null, "revoked_at" TIMESTAMPTZ '
    "DEFAULT null)",
    'CREATE INDEX device_credential_device_id ON "device_credential" USING btree ("device_id")',
    'CREATE TABLE "device_claim" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "device_id" UUID '
    'NOT NULL DEFAULT gen_random_uuid(), "code_digest" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "expires_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "used_at" TIMESTAMPTZ DEFAULT null, "used_by_hardware" '
    'VARCHAR(128) NOT NULL DEFAULT \'\', "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX device_claim_device_id ON "device_claim" USING btree ("device_id")',
    'CREATE TABLE "device_state_change" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "device_id" UUID NOT NULL DEFAULT '
    'gen_random_uuid(), "state" VARCHAR(12) NOT NULL DEFAULT \'\', "previous" VARCHAR(12) NOT NULL DEFAULT '
    "'', \"reason\" VARCHAR(255) NOT NULL DEFAULT '', \"at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX device_state_change_device_id ON "device_state_change" USING btree ("device_id")',
    'CREATE INDEX device_state_change_at ON "device_state_change" USING btree ("at")',
    'CREATE TABLE "device_alarm" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "device_id" UUID '
    'NOT NULL DEFAULT gen_random_uuid(), "type" VARCHAR(32) NOT NULL DEFAULT \'\', "severity" VARCHAR(12) NOT '
    'NULL DEFAULT \'\', "active" BOOLEAN NOT NULL DEFAULT true, "acknowledged" BOOLEAN NOT NULL DEFAULT false, '
    '"open_key" VARCHAR(80) UNIQUE DEFAULT null, "details" JSON NOT NULL DEFAULT \'{}\', "occurrences" INTEGER '
    'NOT NULL DEFAULT 1, "raised_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "cleared_at" TIMESTAMPTZ '
    'DEFAULT null, "acknowledged_at" TIMESTAMPTZ DEFAULT null, "acknowledged_by" UUID DEFAULT null)',
    'CREATE INDEX device_alarm_device_id ON "device_alarm" USING btree ("device_id")',
    'CREATE TABLE "device_command" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "device_id" UUID '
    'NOT NULL DEFAULT gen_random_uuid(), "kind" VARCHAR(24) NOT NULL DEFAULT \'\', "params" JSON NOT NULL '
    "DEFAULT '{}', \"status\" VARCHAR(12) NOT NULL DEFAULT 'queued', \"persistent\" BOOLEAN NOT NULL DEFAULT "
    'true, "request_key" VARCHAR(80) UNIQUE DEFAULT null, "expires_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "reply_deadline" TIMESTAMPTZ DEFAULT null, "attempts" INTEGER NOT NULL DEFAULT 0, '
    '"result" JSON NOT NULL DEFAULT \'{}\', "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL '
    'DEFAULT current_timestamp, "sent_at" TIMESTAMPTZ DEFAULT null, "delivered_at" TIMESTAMPTZ DEFAULT null, '
    '"finished_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX device_command_device_id ON "device_command" USING btree ("device_id")',
    'CREATE INDEX device_command_status ON "device_command" USING btree ("status")',
    'CREATE TABLE "device_staff_notification" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "account_id" UUID NOT NULL '
    'DEFAULT gen_random_uuid(), "alarm_id" UUID DEFAULT null, "device_id" UUID DEFAULT null, "dedupe_key" '
    "VARCHAR(160) UNIQUE NOT NULL DEFAULT '', \"title\" VARCHAR(255) NOT NULL DEFAULT '', \"body\" TEXT NOT "
    'NULL DEFAULT \'\', "pushed" INTEGER NOT NULL DEFAULT 0, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "read_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX device_staff_notification_account_id ON "device_staff_notification" USING btree '
    '("account_id")',
]
