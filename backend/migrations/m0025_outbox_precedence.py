"""Outbox rows carry a precedence: an emergency's work is claimed before whatever was queued ahead
of it (desired states for thousands of newly provisioned devices, a large push fan-out). Lower
runs first; the claim index follows the claim's order."""

_COMMON = [
    'ALTER TABLE "outbox_message" ADD COLUMN "precedence" INTEGER NOT NULL DEFAULT 5',
    'CREATE INDEX outbox_message_claim_order ON "outbox_message" ("status", "precedence", "id")',
]
SQLITE = list(_COMMON)
POSTGRES = list(_COMMON)
