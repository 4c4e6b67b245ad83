"""CAP 1.2 messages sent for published, updated, cancelled and withdrawn notices."""

SQLITE = [
    'CREATE TABLE "cap_message" ("id" INTEGER PRIMARY KEY NOT NULL, "identifier" VARCHAR(128) UNIQUE NOT NULL '
    "DEFAULT '', \"sender\" VARCHAR(255) NOT NULL DEFAULT '', \"sent\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "msg_type" VARCHAR(8) NOT NULL DEFAULT \'\', "status" VARCHAR(8) NOT NULL DEFAULT '
    '\'Actual\', "scope" VARCHAR(12) NOT NULL DEFAULT \'Public\', "notice_id" UUID NOT NULL, "thread_id" UUID '
    'NOT NULL, "event" VARCHAR(16) NOT NULL DEFAULT \'\', "outbox_id" INTEGER DEFAULT null, "references_text" '
    "TEXT NOT NULL DEFAULT '', \"headline\" VARCHAR(255) NOT NULL DEFAULT '', \"expires\" TIMESTAMPTZ NOT NULL "
    'DEFAULT current_timestamp, "xml" TEXT NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT '
    "current_timestamp)",
    'CREATE INDEX cap_message_notice_id ON "cap_message" ("notice_id")',
    'CREATE INDEX cap_message_thread_id ON "cap_message" ("thread_id")',
]
POSTGRES = [
    'CREATE TABLE "cap_message" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "identifier" VARCHAR(128) UNIQUE NOT NULL '
    "DEFAULT '', \"sender\" VARCHAR(255) NOT NULL DEFAULT '', \"sent\" TIMESTAMPTZ NOT NULL DEFAULT "
    'current_timestamp, "msg_type" VARCHAR(8) NOT NULL DEFAULT \'\', "status" VARCHAR(8) NOT NULL DEFAULT '
    "'Actual', \"scope\" VARCHAR(12) NOT NULL DEFAULT 'Public', \"notice_id\" UUID NOT NULL DEFAULT "
    'gen_random_uuid(), "thread_id" UUID NOT NULL DEFAULT gen_random_uuid(), "event" VARCHAR(16) NOT NULL '
    'DEFAULT \'\', "outbox_id" BIGINT DEFAULT null, "references_text" TEXT NOT NULL DEFAULT \'\', "headline" '
    'VARCHAR(255) NOT NULL DEFAULT \'\', "expires" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "xml" TEXT '
    "NOT NULL DEFAULT '', \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX cap_message_notice_id ON "cap_message" USING btree ("notice_id")',
    'CREATE INDEX cap_message_thread_id ON "cap_message" USING btree ("thread_id")',
]

_COMMON = [
    'CREATE INDEX cap_message_thread_seq ON "cap_message" ("thread_id", "id")',
    'CREATE INDEX cap_message_sent ON "cap_message" ("sent")',
]
SQLITE += _COMMON
POSTGRES += _COMMON
