"""Areas, accounts and roles, categories and the audit log."""

SQLITE = [
    'CREATE TABLE "area" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(255) NOT NULL '
    "DEFAULT '', \"name_folded\" VARCHAR(255) NOT NULL DEFAULT '', \"level\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"division_type" VARCHAR(64) NOT NULL DEFAULT \'\', "parent_code" VARCHAR(32) DEFAULT null, "path" '
    'VARCHAR(512) NOT NULL DEFAULT \'\', "depth" INTEGER NOT NULL DEFAULT 0, "updated_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX area_name_folded ON "area" ("name_folded")',
    'CREATE INDEX area_parent_code ON "area" ("parent_code")',
    'CREATE INDEX area_path ON "area" ("path")',
    'CREATE TABLE "account" ("id" UUID PRIMARY KEY NOT NULL, "kind" VARCHAR(16) NOT NULL DEFAULT \'\', '
    '"username" VARCHAR(64) UNIQUE DEFAULT null, "password_hash" TEXT DEFAULT null, "full_name" VARCHAR(255) '
    'NOT NULL DEFAULT \'\', "phone" VARCHAR(32) DEFAULT null, "device_id" VARCHAR(128) UNIQUE DEFAULT null, '
    '"language" VARCHAR(8) NOT NULL DEFAULT \'vi\', "active" BOOLEAN NOT NULL DEFAULT true, "created_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)",
    'CREATE TABLE "role_grant" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID REFERENCES "account" ("id") ON '
    'DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "role" VARCHAR(32) NOT NULL DEFAULT \'\', "area" '
    'VARCHAR(32) REFERENCES "area" ("code") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "granted_by" UUID '
    'DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX role_grant_account ON "role_grant" ("account")',
    'CREATE INDEX role_grant_area ON "role_grant" ("area")',
    'CREATE TABLE "refresh_token" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID REFERENCES "account" ("id") '
    'ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "family" UUID NOT NULL, "token_digest" VARCHAR(64) '
    'UNIQUE NOT NULL DEFAULT \'\', "issued_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "expires_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "used_at" TIMESTAMPTZ DEFAULT null, "revoked_at" '
    "TIMESTAMPTZ DEFAULT null, \"client_addr\" VARCHAR(64) NOT NULL DEFAULT '')",
    'CREATE INDEX refresh_token_account ON "refresh_token" ("account")',
    'CREATE INDEX refresh_token_family ON "refresh_token" ("family")',
    'CREATE TABLE "category" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name_vi" VARCHAR(255) NOT '
    "NULL DEFAULT '', \"name_en\" VARCHAR(255) NOT NULL DEFAULT '', \"description\" TEXT NOT NULL DEFAULT '', "
    '"active" BOOLEAN NOT NULL DEFAULT true, "position" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "audit_entry" ("id" INTEGER PRIMARY KEY NOT NULL, "at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "actor_id" UUID DEFAULT null, "actor_role" VARCHAR(32) NOT NULL DEFAULT \'\', '
    '"actor_area" VARCHAR(32) NOT NULL DEFAULT \'\', "action" VARCHAR(64) NOT NULL DEFAULT \'\', "target_type" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"target_id\" VARCHAR(64) NOT NULL DEFAULT '', \"client_addr\" "
    "VARCHAR(64) NOT NULL DEFAULT '', \"request_id\" VARCHAR(64) NOT NULL DEFAULT '', \"details\" JSON NOT NULL "
    "DEFAULT '{}')",
    'CREATE INDEX audit_entry_at ON "audit_entry" ("at")',
    'CREATE INDEX audit_entry_actor_id ON "audit_entry" ("actor_id")',
    'CREATE INDEX audit_entry_action ON "audit_entry" ("action")',
    'CREATE INDEX audit_entry_target_id ON "audit_entry" ("target_id")',
]
POSTGRES = [
    'CREATE TABLE "area" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(255) NOT NULL '
    "DEFAULT '', \"name_folded\" VARCHAR(255) NOT NULL DEFAULT '', \"level\" VARCHAR(16) NOT NULL DEFAULT '', "
    '"division_type" VARCHAR(64) NOT NULL DEFAULT \'\', "parent_code" VARCHAR(32) DEFAULT null, "path" '
    'VARCHAR(512) NOT NULL DEFAULT \'\', "depth" INTEGER NOT NULL DEFAULT 0, "updated_at" TIMESTAMPTZ NOT NULL '
    "DEFAULT current_timestamp)",
    'CREATE INDEX area_name_folded ON "area" USING btree ("name_folded")',
    'CREATE INDEX area_parent_code ON "area" USING btree ("parent_code")',
    'CREATE INDEX area_path ON "area" USING btree ("path")',
    'CREATE TABLE "account" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "kind" VARCHAR(16) NOT '
    'NULL DEFAULT \'\', "username" VARCHAR(64) UNIQUE DEFAULT null, "password_hash" TEXT DEFAULT null, '
    '"full_name" VARCHAR(255) NOT NULL DEFAULT \'\', "phone" VARCHAR(32) DEFAULT null, "device_id" VARCHAR(128) '
    'UNIQUE DEFAULT null, "language" VARCHAR(8) NOT NULL DEFAULT \'vi\', "active" BOOLEAN NOT NULL DEFAULT '
    'true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "role_grant" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID '
    'REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "role" VARCHAR(32) NOT NULL '
    'DEFAULT \'\', "area" VARCHAR(32) REFERENCES "area" ("code") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT '
    'null, "granted_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX role_grant_account ON "role_grant" USING btree ("account")',
    'CREATE INDEX role_grant_area ON "role_grant" USING btree ("area")',
    'CREATE TABLE "refresh_token" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" UUID '
    'REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "family" UUID NOT NULL '
    'DEFAULT gen_random_uuid(), "token_digest" VARCHAR(64) UNIQUE NOT NULL DEFAULT \'\', "issued_at" '
    'TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "expires_at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "used_at" TIMESTAMPTZ DEFAULT null, "revoked_at" TIMESTAMPTZ DEFAULT null, '
    "\"client_addr\" VARCHAR(64) NOT NULL DEFAULT '')",
    'CREATE INDEX refresh_token_account ON "refresh_token" USING btree ("account")',
    'CREATE INDEX refresh_token_family ON "refresh_token" USING btree ("family")',
    'CREATE TABLE "category" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name_vi" VARCHAR(255) NOT '
    "NULL DEFAULT '', \"name_en\" VARCHAR(255) NOT NULL DEFAULT '', \"description\" TEXT NOT NULL DEFAULT '', "
    '"active" BOOLEAN NOT NULL DEFAULT true, "position" INTEGER NOT NULL DEFAULT 0)',
    'CREATE TABLE "audit_entry" ("id" BIGSERIAL PRIMARY KEY NOT NULL, "at" TIMESTAMPTZ NOT NULL DEFAULT '
    'current_timestamp, "actor_id" UUID DEFAULT null, "actor_role" VARCHAR(32) NOT NULL DEFAULT \'\', '
    '"actor_area" VARCHAR(32) NOT NULL DEFAULT \'\', "action" VARCHAR(64) NOT NULL DEFAULT \'\', "target_type" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"target_id\" VARCHAR(64) NOT NULL DEFAULT '', \"client_addr\" "
    "VARCHAR(64) NOT NULL DEFAULT '', \"request_id\" VARCHAR(64) NOT NULL DEFAULT '', \"details\" JSON NOT NULL "
    "DEFAULT '{}')",
    'CREATE INDEX audit_entry_at ON "audit_entry" USING btree ("at")',
    'CREATE INDEX audit_entry_actor_id ON "audit_entry" USING btree ("actor_id")',
    'CREATE INDEX audit_entry_action ON "audit_entry" USING btree ("action")',
    'CREATE INDEX audit_entry_target_id ON "audit_entry" USING btree ("target_id")',
]

_COMMON = [
    'CREATE UNIQUE INDEX role_grant_unique ON "role_grant" ("account", "role", "area")',
    'CREATE INDEX audit_entry_at_id ON "audit_entry" ("at", "id")',
]
SQLITE += _COMMON
# Prefix searches (LIKE '/VN/38/%') can use a btree index on PostgreSQL only with pattern ops.
POSTGRES += [*_COMMON, 'CREATE INDEX area_path_prefix ON "area" ("path" varchar_pattern_ops)']
