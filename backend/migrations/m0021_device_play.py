"""Devices' manifest acknowledgements, once per (device, manifest, result). Proof of play needs no
table of its own: it goes into the broadcast log (``broadcast_play``)."""

SQLITE = [
    'CREATE TABLE "device_manifest_ack" ("id" INTEGER PRIMARY KEY NOT NULL, "device_id" VARCHAR(64) NOT NULL '
    'DEFAULT \'\', "ack_key" VARCHAR(120) NOT NULL DEFAULT \'\', "manifest_id" UUID DEFAULT null, "scope" '
    "VARCHAR(80) NOT NULL DEFAULT '', \"kind\" VARCHAR(12) NOT NULL DEFAULT '', \"version\" INTEGER DEFAULT "
    'null, "thread_id" UUID DEFAULT null, "result" VARCHAR(12) NOT NULL DEFAULT \'\', "reason" VARCHAR(64) NOT '
    'NULL DEFAULT \'\', "acked_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "received_at" TIMESTAMPTZ '
    "NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX device_manifest_ack_thread_id ON "device_manifest_ack" ("thread_id")',
    'CREATE UNIQUE INDEX device_manifest_ack_key ON "device_manifest_ack" ("device_id", "ack_key")',
]
POSTGRES = [
    'CREATE TABLE "device_manifest_ack" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "device_id" VARCHAR(64) NOT NULL '
    'DEFAULT \'\', "ack_key" VARCHAR(120) NOT NULL DEFAULT \'\', "manifest_id" UUID DEFAULT null, "scope" '
    "VARCHAR(80) NOT NULL DEFAULT '', \"kind\" VARCHAR(12) NOT NULL DEFAULT '', \"version\" INTEGER DEFAULT "
    'null, "thread_id" UUID DEFAULT null, "result" VARCHAR(12) NOT NULL DEFAULT \'\', "reason" VARCHAR(64) NOT '
    'NULL DEFAULT \'\', "acked_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "received_at" TIMESTAMPTZ '
    "NOT NULL DEFAULT current_timestamp)",
    'CREATE INDEX device_manifest_ack_thread_id ON "device_manifest_ack" USING btree ("thread_id")',
    'CREATE UNIQUE INDEX device_manifest_ack_key ON "device_manifest_ack" ("device_id", "ack_key")',
]
