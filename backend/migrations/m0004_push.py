"""Push registrations (FCM tokens, Web Push subscriptions) and per-device push deliveries."""

SQLITE = [
    'CREATE TABLE "push_registration" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID REFERENCES "account" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(8) NOT NULL DEFAULT \'\', '
    '"endpoint" TEXT NOT NULL DEFAULT \'\', "endpoint_key" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "p256dh" '
    "VARCHAR(128) NOT NULL DEFAULT '', \"auth\" VARCHAR(64) NOT NULL DEFAULT '', \"device_id\" VARCHAR(128) NOT "
    "NULL DEFAULT '', \"language\" VARCHAR(8) NOT NULL DEFAULT 'vi', \"expires_at\" TIMESTAMPTZ DEFAULT null, "
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "pruned_at" TIMESTAMPTZ DEFAULT null, '
    "\"pruned_reason\" VARCHAR(255) NOT NULL DEFAULT '')",
    'CREATE INDEX push_registration_account ON "push_registration" ("account")',
    'CREATE TABLE "push_delivery" ("id" INTEGER PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") '
    "ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, \"event\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"registration" UUID REFERENCES "push_registration" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT '
    "null, \"channel\" VARCHAR(8) NOT NULL DEFAULT '', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', "
    '"attempts" INTEGER NOT NULL DEFAULT 0, "http_status" INTEGER DEFAULT null, "error" VARCHAR(255) NOT NULL '
    'DEFAULT \'\', "claimed_at" TIMESTAMPTZ DEFAULT null, "done_at" TIMESTAMPTZ DEFAULT null, "created_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
]
POSTGRES = [
    'CREATE TABLE "push_registration" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID '
    'REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(8) NOT NULL '
    "DEFAULT '', \"endpoint\" TEXT NOT NULL DEFAULT '', \"endpoint_key\" VARCHAR(64) UNIQUE NOT NULL DEFAULT "
    "'', \"p256dh\" VARCHAR(128) NOT NULL DEFAULT '', \"auth\" VARCHAR(64) NOT NULL DEFAULT '', \"device_id\" "
    "VARCHAR(128) NOT NULL DEFAULT '', \"language\" VARCHAR(8) NOT NULL DEFAULT 'vi', \"expires_at\" "
    'TIMESTAMPTZ DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "pruned_at" '
    "TIMESTAMPTZ DEFAULT null, \"pruned_reason\" VARCHAR(255) NOT NULL DEFAULT '')",
    'CREATE INDEX push_registration_account ON "push_registration" USING btree ("account")',
    'CREATE TABLE "push_delivery" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "event" VARCHAR(16) NOT NULL DEFAULT \'\', '
    '"registration" UUID REFERENCES "push_registration" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT '
    "null, \"channel\" VARCHAR(8) NOT NULL DEFAULT '', \"status\" VARCHAR(12) NOT NULL DEFAULT 'pending', "
    '"attempts" INTEGER NOT NULL DEFAULT 0, "http_status" INTEGER DEFAULT null, "error" VARCHAR(255) NOT NULL '
    'DEFAULT \'\', "claimed_at" TIMESTAMPTZ DEFAULT null, "done_at" TIMESTAMPTZ DEFAULT null, "created_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
]

_COMMON = [
    'CREATE UNIQUE INDEX push_delivery_once ON "push_delivery" ("notice", "event", "registration")',
    'CREATE INDEX push_delivery_work ON "push_delivery" ("notice", "event", "id")',
    'CREATE INDEX push_delivery_registration ON "push_delivery" ("registration")',
]
SQLITE += _COMMON
POSTGRES += _COMMON
