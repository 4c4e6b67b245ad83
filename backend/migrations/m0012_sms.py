"""SMS opt-ins of citizens and per-recipient SMS deliveries of notices."""

SQLITE = [
    'CREATE TABLE "sms_subscription" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID UNIQUE REFERENCES '
    '"account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "phone" VARCHAR(32) NOT NULL DEFAULT '
    "'', \"notices\" VARCHAR(16) NOT NULL DEFAULT 'emergency', \"encoding\" VARCHAR(8) NOT NULL DEFAULT "
    '\'auto\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX sms_subscription_phone ON "sms_subscription" ("phone")',
    'CREATE TABLE "sms_delivery" ("id" INTEGER PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") '
    'ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "event" VARCHAR(16) NOT NULL DEFAULT \'\', "account" '
    "UUID NOT NULL, \"phone\" VARCHAR(32) NOT NULL DEFAULT '', \"language\" VARCHAR(8) NOT NULL DEFAULT 'vi', "
    "\"encoding\" VARCHAR(8) NOT NULL DEFAULT 'ucs2', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', "
    '"attempts" INTEGER NOT NULL DEFAULT 0, "segments" INTEGER NOT NULL DEFAULT 0, "cost" INTEGER NOT NULL '
    'DEFAULT 0, "http_status" INTEGER DEFAULT null, "gateway_id" VARCHAR(128) NOT NULL DEFAULT \'\', "error" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"receipt\" VARCHAR(16) NOT NULL DEFAULT '', \"receipt_at\" TIMESTAMPTZ "
    'DEFAULT null, "claimed_at" TIMESTAMPTZ DEFAULT null, "done_at" TIMESTAMPTZ DEFAULT null, "created_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
]
POSTGRES = [
    'CREATE TABLE "sms_subscription" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID '
    'UNIQUE REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "phone" VARCHAR(32) '
    "NOT NULL DEFAULT '', \"notices\" VARCHAR(16) NOT NULL DEFAULT 'emergency', \"encoding\" VARCHAR(8) NOT "
    'NULL DEFAULT \'auto\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "updated_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX sms_subscription_phone ON "sms_subscription" USING btree ("phone")',
    'CREATE TABLE "sms_delivery" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") '
    'ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "event" VARCHAR(16) NOT NULL DEFAULT \'\', "account" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "phone" VARCHAR(32) NOT NULL DEFAULT \'\', "language" VARCHAR(8) '
    "NOT NULL DEFAULT 'vi', \"encoding\" VARCHAR(8) NOT NULL DEFAULT 'ucs2', \"status\" VARCHAR(12) NOT NULL "
    'DEFAULT \'pending\', "attempts" INTEGER NOT NULL DEFAULT 0, "segments" INTEGER NOT NULL DEFAULT 0, "cost" '
    'INTEGER NOT NULL DEFAULT 0, "http_status" INTEGER DEFAULT null, "gateway_id" VARCHAR(128) NOT NULL DEFAULT '
    "'', \"error\" VARCHAR(255) NOT NULL DEFAULT '', \"receipt\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"receipt_at" TIMESTAMPTZ DEFAULT null, "claimed_at" TIMESTAMPTZ DEFAULT null, "done_at" TIMESTAMPTZ '
    'DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]

_COMMON = [
    'CREATE UNIQUE INDEX sms_delivery_once ON "sms_delivery" ("notice", "event", "phone")',
    'CREATE INDEX sms_delivery_work ON "sms_delivery" ("notice", "event", "id")',
    'CREATE INDEX sms_delivery_gateway_id ON "sms_delivery" ("gateway_id")',
]
SQLITE += _COMMON
POSTGRES += _COMMON
