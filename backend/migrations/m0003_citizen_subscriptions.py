"""Citizens' subscriptions and read receipts."""

SQLITE = [
    'CREATE TABLE "subscription" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID REFERENCES "account" ("id") ON '
    'DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "area_code" VARCHAR(32) NOT NULL DEFAULT \'\', "area_path" '
    "VARCHAR(512) NOT NULL DEFAULT '', \"categories\" JSON NOT NULL DEFAULT '[]', \"created_at\" TIMESTAMPTZ "
    "NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX subscription_account ON "subscription" ("account")',
    'CREATE INDEX subscription_area_path ON "subscription" ("area_path")',
    'CREATE TABLE "read_receipt" ("id" UUID PRIMARY KEY NOT NULL, "notice" UUID REFERENCES "notice" ("id") ON '
    'DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID REFERENCES "account" ("id") ON DELETE '
    'CASCADE ON UPDATE CASCADE DEFAULT null, "opened_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX read_receipt_notice ON "read_receipt" ("notice")',
    'CREATE INDEX read_receipt_account ON "read_receipt" ("account")',
]
POSTGRES = [
    'CREATE TABLE "subscription" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID '
    'REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "area_code" VARCHAR(32) NOT '
    "NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', \"categories\" JSON NOT NULL DEFAULT "
    "'[]', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX subscription_account ON "subscription" USING btree ("account")',
    'CREATE INDEX subscription_area_path ON "subscription" USING btree ("area_path")',
    'CREATE TABLE "read_receipt" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "notice" UUID '
    'REFERENCES "notice" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID REFERENCES '
    '"account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "opened_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX read_receipt_notice ON "read_receipt" USING btree ("notice")',
    'CREATE INDEX read_receipt_account ON "read_receipt" USING btree ("account")',
]

_COMMON = [
    'CREATE INDEX subscription_account_path ON "subscription" ("account", "area_path")',
    'CREATE UNIQUE INDEX read_receipt_once ON "read_receipt" ("notice", "account")',
]
SQLITE += _COMMON
POSTGRES += [
    *_COMMON,
    'CREATE INDEX subscription_path_prefix ON "subscription" ("area_path" varchar_pattern_ops)',
]
