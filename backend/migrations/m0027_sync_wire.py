"""Synced rows kept encoded: a page of a full pull or of a hundred changes takes each row's fields
as the text written when the row last changed instead of loading and encoding every column again.
Starts empty: rows are encoded when a phone writes them or when a page first sends them."""

SQLITE = [
    'CREATE TABLE "sync_wire" ("key" VARCHAR(120) PRIMARY KEY NOT NULL DEFAULT \'\', "version" INTEGER NOT NULL '
    "DEFAULT 0, \"body\" TEXT NOT NULL DEFAULT '')",
]
POSTGRES = [
    'CREATE TABLE "sync_wire" ("key" VARCHAR(120) PRIMARY KEY NOT NULL DEFAULT \'\', "version" BIGINT NOT NULL '
    "DEFAULT 0, \"body\" TEXT NOT NULL DEFAULT '')",
]
