"""The training library: topics, materials and their versions, officials' completion marks.

Besides the tables: one version number per material, and one completion per official and version
(a repeated mark from a second phone can never add a row)."""

SQLITE = [
    'CREATE TABLE "training_topic" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(200) '
    "NOT NULL DEFAULT '', \"description\" TEXT NOT NULL DEFAULT '', \"created_by\" UUID DEFAULT null, "
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "training_material" ("id" UUID PRIMARY KEY NOT NULL, "topic" VARCHAR(32) NOT NULL DEFAULT '
    '\'\', "level" VARCHAR(16) NOT NULL DEFAULT \'\', "required" BOOLEAN NOT NULL DEFAULT true, "area_code" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"area_path\" VARCHAR(512) NOT NULL DEFAULT '', \"status\" VARCHAR(12) "
    'NOT NULL DEFAULT \'draft\', "current_version" UUID DEFAULT null, "completion_from" INTEGER NOT NULL '
    'DEFAULT 1, "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX training_material_topic ON "training_material" ("topic")',
    'CREATE INDEX training_material_area_path ON "training_material" ("area_path")',
    'CREATE TABLE "training_version" ("id" UUID PRIMARY KEY NOT NULL, "material" UUID REFERENCES '
    '"training_material" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "number" INTEGER NOT NULL '
    "DEFAULT 0, \"status\" VARCHAR(12) NOT NULL DEFAULT 'draft', \"title\" VARCHAR(200) NOT NULL DEFAULT '', "
    '"description" TEXT NOT NULL DEFAULT \'\', "kind" VARCHAR(12) NOT NULL DEFAULT \'\', "sha256" VARCHAR(64) '
    "NOT NULL DEFAULT '', \"size\" INTEGER NOT NULL DEFAULT 0, \"mime\" VARCHAR(100) NOT NULL DEFAULT '', "
    '"retrain" BOOLEAN NOT NULL DEFAULT false, "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT '
    'NULL DEFAULT current_timestamp, "published_at" TIMESTAMPTZ DEFAULT null, "superseded_at" TIMESTAMPTZ '
    "DEFAULT null)",
    'CREATE INDEX training_version_material ON "training_version" ("material")',
    'CREATE TABLE "training_completion" ("id" UUID PRIMARY KEY NOT NULL, "account" UUID NOT NULL, "material" '
    'UUID NOT NULL, "version" UUID NOT NULL, "number" INTEGER NOT NULL DEFAULT 0, "area_path" VARCHAR(512) NOT '
    'NULL DEFAULT \'\', "completed_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "recorded_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, \"device_id\" VARCHAR(64) NOT NULL DEFAULT '')",
    'CREATE INDEX training_completion_account ON "training_completion" ("account")',
    'CREATE INDEX training_completion_material ON "training_completion" ("material")',
    'CREATE UNIQUE INDEX training_version_number ON "training_version" ("material", "number")',
    'CREATE UNIQUE INDEX training_completion_once ON "training_completion" ("account", "version")',
]
POSTGRES = [
    'CREATE TABLE "training_topic" ("code" VARCHAR(32) PRIMARY KEY NOT NULL DEFAULT \'\', "name" VARCHAR(200) '
    "NOT NULL DEFAULT '', \"description\" TEXT NOT NULL DEFAULT '', \"created_by\" UUID DEFAULT null, "
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE TABLE "training_material" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "topic" '
    "VARCHAR(32) NOT NULL DEFAULT '', \"level\" VARCHAR(16) NOT NULL DEFAULT '', \"required\" BOOLEAN NOT NULL "
    'DEFAULT true, "area_code" VARCHAR(32) NOT NULL DEFAULT \'\', "area_path" VARCHAR(512) NOT NULL DEFAULT '
    "'', \"status\" VARCHAR(12) NOT NULL DEFAULT 'draft', \"current_version\" UUID DEFAULT null, "
    '"completion_from" INTEGER NOT NULL DEFAULT 1, "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ NOT '
    'NULL DEFAULT current_timestamp, "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    'CREATE INDEX training_material_topic ON "training_material" USING btree ("topic")',
    'CREATE INDEX training_material_area_path ON "training_material" USING btree ("area_path")',
    'CREATE TABLE "training_version" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "material" UUID '
    'REFERENCES "training_material" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, "number" INTEGER '
    'NOT NULL DEFAULT 0, "status" VARCHAR(12) NOT NULL DEFAULT \'draft\', "title" VARCHAR(200) NOT NULL DEFAULT '
    "'', \"description\" TEXT NOT NULL DEFAULT '', \"kind\" VARCHAR(12) NOT NULL DEFAULT '', \"sha256\" "
    'VARCHAR(64) NOT NULL DEFAULT \'\', "size" BIGINT NOT NULL DEFAULT 0, "mime" VARCHAR(100) NOT NULL DEFAULT '
    '\'\', "retrain" BOOLEAN NOT NULL DEFAULT false, "created_by" UUID DEFAULT null, "created_at" TIMESTAMPTZ '
    'NOT NULL DEFAULT current_timestamp, "published_at" TIMESTAMPTZ DEFAULT null, "superseded_at" TIMESTAMPTZ '
    "DEFAULT null)",
    'CREATE INDEX training_version_material ON "training_version" USING btree ("material")',
    'CREATE TABLE "training_completion" ("id" UUID PRIMARY KEY NOT NULL DEFAULT gen_random_uuid(), "account" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "material" UUID NOT NULL DEFAULT gen_random_uuid(), "version" '
    'UUID NOT NULL DEFAULT gen_random_uuid(), "number" INTEGER NOT NULL DEFAULT 0, "area_path" VARCHAR(512) NOT '
    'NULL DEFAULT \'\', "completed_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "recorded_at" '
    "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, \"device_id\" VARCHAR(64) NOT NULL DEFAULT '')",
    'CREATE INDEX training_completion_account ON "training_completion" USING btree ("account")',
    'CREATE INDEX training_completion_material ON "training_completion" USING btree ("material")',
    'CREATE UNIQUE INDEX training_version_number ON "training_version" USING btree ("material", "number")',
    'CREATE UNIQUE INDEX training_completion_once ON "training_completion" USING btree ("account", "version")',
]
