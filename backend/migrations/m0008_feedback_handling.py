"""Feedback handling: units, routing rules, holidays, per-category deadlines, the 1:1 handling
record with deadlines and flags, followers, sweep alerts and answer templates; seeds the 2026
Vietnamese public holidays and default deadlines (data that admins edit afterwards)."""

from backend.lib.db import Database

SQLITE = [
    'CREATE TABLE "handling_unit" ("id" UUID PRIMARY KEY NOT NULL, "name" VARCHAR(255) NOT NULL DEFAULT \'\', '
    "\"area_code\" VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', "
    '"supervisor" UUID DEFAULT null, "active" BOOLEAN NOT NULL DEFAULT true, "created_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX handling_unit_area_path ON "handling_unit" ("area_path")',
    'CREATE TABLE "routing_rule" ("id" UUID PRIMARY KEY NOT NULL, "category" VARCHAR(32) NOT NULL DEFAULT \'\', '
    '"area_code" VARCHAR(32) NOT NULL DEFAULT \'\', "area_path" VARCHAR(512) NOT NULL DEFAULT \'\', "unit" UUID '
    'REFERENCES "handling_unit" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "created_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX routing_rule_unit ON "routing_rule" ("unit")',
    'CREATE TABLE "holiday" ("day" VARCHAR(10) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(255) NOT NULL '
    "DEFAULT '')",
    'CREATE TABLE "feedback_sla" ("category" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "ack_days" INTEGER '
    'NOT NULL DEFAULT 1, "answer_days" INTEGER NOT NULL DEFAULT 10, "remind_days" INTEGER NOT NULL DEFAULT 1)',
    'CREATE TABLE "feedback_handling" ("id" UUID PRIMARY KEY NOT NULL, "feedback" UUID UNIQUE REFERENCES '
    '"feedback" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "category" VARCHAR(32) NOT NULL '
    "DEFAULT '', \"path\" VARCHAR(512) NOT NULL DEFAULT '', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "search" TEXT NOT NULL DEFAULT \'\', "unit" UUID DEFAULT null, "triage" BOOLEAN NOT '
    'NULL DEFAULT false, "assignee" UUID DEFAULT null, "ack_due" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "answer_due" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "remind_at" TIMESTAMPTZ '
    'NOT NULL DEFAULT current_timestamp, "acknowledged_at" TIMESTAMPTZ DEFAULT null, "overdue" BOOLEAN NOT NULL '
    'DEFAULT false, "reminded_at" TIMESTAMPTZ DEFAULT null, "escalated_at" TIMESTAMPTZ DEFAULT null, '
    '"escalated_to" UUID DEFAULT null, "duplicate_of" UUID DEFAULT null, "possible_duplicate" UUID DEFAULT '
    "null)",
    'CREATE TABLE "feedback_follower" ("id" UUID PRIMARY KEY NOT NULL, "feedback" UUID REFERENCES "feedback" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID NOT NULL, "via" UUID DEFAULT null, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX feedback_follower_feedback ON "feedback_follower" ("feedback")',
    'CREATE TABLE "feedback_alert" ("id" UUID PRIMARY KEY NOT NULL, "feedback" UUID REFERENCES "feedback" '
    '("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(16) NOT NULL DEFAULT \'\', "unit" '
    'UUID DEFAULT null, "account" UUID DEFAULT null, "due" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "read_at" TIMESTAMPTZ DEFAULT null)',
    'CREATE INDEX feedback_alert_feedback ON "feedback_alert" ("feedback")',
    'CREATE TABLE "answer_template" ("id" UUID PRIMARY KEY NOT NULL, "title" VARCHAR(200) NOT NULL DEFAULT '
    "'', \"text\" TEXT NOT NULL DEFAULT '', \"category\" VARCHAR(32) NOT NULL DEFAULT '', \"active\" BOOLEAN "
    'NOT NULL DEFAULT true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]
POSTGRES = [
    'CREATE TABLE "handling_unit" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "name" '
    "VARCHAR(255) NOT NULL DEFAULT '', \"area_code\" VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" "
    'VARCHAR(512) NOT NULL DEFAULT \'\', "supervisor" UUID DEFAULT null, "active" BOOLEAN NOT NULL DEFAULT '
    'true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX handling_unit_area_path ON "handling_unit" USING btree ("area_path")',
    'CREATE TABLE "routing_rule" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "category" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"area_code\" VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) "
    'NOT NULL DEFAULT \'\', "unit" UUID REFERENCES "handling_unit" ("id") ON DELETE CASCADE ON UPDATE CASCADE '
    'DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX routing_rule_unit ON "routing_rule" USING btree ("unit")',
    'CREATE TABLE "holiday" ("day" VARCHAR(10) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(255) NOT NULL '
    "DEFAULT '')",
    'CREATE TABLE "feedback_sla" ("category" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "ack_days" INTEGER '
    'NOT NULL DEFAULT 1, "answer_days" INTEGER NOT NULL DEFAULT 10, "remind_days" INTEGER NOT NULL DEFAULT 1)',
    'CREATE TABLE "feedback_handling" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "feedback" '
    'UUID UNIQUE REFERENCES "feedback" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "category" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"path\" VARCHAR(512) NOT NULL DEFAULT '', \"created_at\" TIMESTAMPTZ NOT "
    'NULL DEFAULT current_timestamp, "search" TEXT NOT NULL DEFAULT \'\', "unit" UUID DEFAULT null, "triage" '
    'BOOLEAN NOT NULL DEFAULT false, "assignee" UUID DEFAULT null, "ack_due" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "answer_due" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "remind_at" TIMESTAMPTZ '
    'NOT NULL DEFAULT current_timestamp, "acknowledged_at" TIMESTAMPTZ DEFAULT null, "overdue" BOOLEAN NOT NULL '
    'DEFAULT false, "reminded_at" TIMESTAMPTZ DEFAULT null, "escalated_at" TIMESTAMPTZ DEFAULT null, '
    '"escalated_to" UUID DEFAULT null, "duplicate_of" UUID DEFAULT null, "possible_duplicate" UUID DEFAULT '
    "null)",
    'CREATE TABLE "feedback_follower" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "feedback" '
    'UUID REFERENCES "feedback" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "account" UUID NOT '
    'NULL DEFAULT gen_random_uuid(), "via" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX feedback_follower_feedback ON "feedback_follower" USING btree ("feedback")',
    'CREATE TABLE "feedback_alert" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "feedback" UUID '
    'REFERENCES "feedback" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "kind" VARCHAR(16) NOT NULL '
    'DEFAULT \'\', "unit" UUID DEFAULT null, "account" UUID DEFAULT null, "due" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "read_at" TIMESTAMPTZ DEFAULT '
    "null)",
    'CREATE INDEX feedback_alert_feedback ON "feedback_alert" USING btree ("feedback")',
    'CREATE TABLE "answer_template" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "title" '
    "VARCHAR(200) NOT NULL DEFAULT '', \"text\" TEXT NOT NULL DEFAULT '', \"category\" VARCHAR(32) NOT NULL "
    'DEFAULT \'\', "active" BOOLEAN NOT NULL DEFAULT true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
]

_COMMON = [
    'CREATE INDEX feedback_handling_created ON "feedback_handling" ("created_at", "id")',
    'CREATE INDEX feedback_handling_due ON "feedback_handling" ("answer_due", "id")',
    'CREATE INDEX feedback_handling_assignee ON "feedback_handling" ("assignee", "created_at")',
    'CREATE INDEX feedback_handling_unit ON "feedback_handling" ("unit", "created_at")',
    'CREATE INDEX feedback_handling_category ON "feedback_handling" ("category", "created_at")',
    'CREATE INDEX feedback_handling_path ON "feedback_handling" ("path")',
    'CREATE INDEX feedback_handling_duplicate_of ON "feedback_handling" ("duplicate_of")',
    'CREATE UNIQUE INDEX feedback_follower_once ON "feedback_follower" ("feedback", "account")',
    'CREATE INDEX feedback_follower_account ON "feedback_follower" ("account")',
    'CREATE UNIQUE INDEX feedback_alert_once ON "feedback_alert" ("feedback", "kind")',
    'CREATE UNIQUE INDEX routing_rule_once ON "routing_rule" ("category", "area_code")',
    'CREATE INDEX feedback_category_created ON "feedback" ("category", "created_at")',
]
SQLITE += _COMMON
POSTGRES += [
    *_COMMON,
    'CREATE INDEX feedback_handling_path_prefix ON "feedback_handling" ("path" varchar_pattern_ops)',
]

# Public holidays of 2026 that fall on working days (Labour Code 2019 art. 112; Tết Bính Ngọ
# 14–22 Feb 2026; Hùng Kings' day 26 Apr falls on a Sunday, so Monday 27 Apr is off instead).
HOLIDAYS_2026 = [
    ("2026-01-01", "Tết Dương lịch"),
    ("2026-02-16", "Tết Nguyên đán"),
    ("2026-02-17", "Tết Nguyên đán (mùng 1)"),
    ("2026-02-18", "Tết Nguyên đán (mùng 2)"),
    ("2026-02-19", "Tết Nguyên đán (mùng 3)"),
    ("2026-02-20", "Tết Nguyên đán"),
    ("2026-04-27", "Nghỉ bù Giỗ Tổ Hùng Vương"),
    ("2026-04-30", "Ngày Chiến thắng"),
    ("2026-05-01", "Ngày Quốc tế Lao động"),
    ("2026-09-01", "Quốc khánh"),
    ("2026-09-02", "Quốc khánh"),
]

# category, acknowledge, answer, remind before (working days); "*" applies to every other category.
SLA_DEFAULTS = [
    ("*", 1, 10, 2),
    ("disaster", 1, 3, 1),
    ("security", 1, 5, 1),
    ("health", 1, 5, 1),
    ("environment", 1, 7, 2),
]


async def forwards(db: Database) -> None:
    for day, name in HOLIDAYS_2026:
        await db.execute('INSERT INTO "holiday" ("day", "name") VALUES ({}, {})', day, name)
    for category, ack, answer, remind in SLA_DEFAULTS:
        await db.execute(
            'INSERT INTO "feedback_sla" ("category", "ack_days", "answer_days", "remind_days") '
            "VALUES ({}, {}, {}, {})",
            category,
            ack,
            answer,
            remind,
        )
