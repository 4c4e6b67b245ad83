"""Staff web console: login sessions (cookie secret digest, CSRF token, the refresh-token family of
the login); the pause of a report's deadline clock while it waits for the citizen; and, on
PostgreSQL, a trigram index on the queue's folded search text so a "contains" search over 100,000
reports reads the index instead of every row (SQLite keeps scanning: its queues are small)."""

SQLITE = [
    'CREATE TABLE "console_session" ("id" UUID PRIMARY KEY NOT NULL, "digest" VARCHAR(64) UNIQUE NOT NULL '
    'DEFAULT \'\', "account" UUID REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT '
    'null, "refresh" UUID REFERENCES "refresh_token" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, '
    '"csrf" VARCHAR(64) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"seen_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "expires_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "ended_at" TIMESTAMPTZ DEFAULT null, "client_addr" VARCHAR(64) NOT NULL DEFAULT \'\')',
    'CREATE INDEX console_session_refresh ON "console_session" ("refresh")',
    'CREATE INDEX console_session_account ON "console_session" ("account")',
    'ALTER TABLE "feedback_handling" ADD COLUMN "paused_at" TIMESTAMPTZ DEFAULT null',
]
POSTGRES = [
    'CREATE TABLE "console_session" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "digest" '
    'VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "account" UUID REFERENCES "account" ("id") ON DELETE CASCADE '
    'ON UPDATE CASCADE DEFAULT null, "refresh" UUID REFERENCES "refresh_token" ("id") ON DELETE CASCADE ON '
    'UPDATE CASCADE DEFAULT null, "csrf" VARCHAR(64) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT '
    'NULL DEFAULT current_timestamp, "seen_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "expires_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "ended_at" TIMESTAMPTZ DEFAULT null, "client_addr" '
    "VARCHAR(64) NOT NULL DEFAULT '')",
    'CREATE INDEX console_session_refresh ON "console_session" USING btree ("refresh")',
    'CREATE INDEX console_session_account ON "console_session" USING btree ("account")',
    'ALTER TABLE "feedback_handling" ADD COLUMN "paused_at" TIMESTAMPTZ DEFAULT null',
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX feedback_handling_search_trgm ON "feedback_handling" USING gin ("search" gin_trgm_ops)',
]
