"""An emergency's repeat count and interval chosen by its approver, kept with the notice version so
the override that starts later (and an update that keeps them) plays what was approved."""

_COMMON = [
    'ALTER TABLE "notice" ADD COLUMN "emergency_repeat" INTEGER DEFAULT null',
    'ALTER TABLE "notice" ADD COLUMN "emergency_interval_s" INTEGER DEFAULT null',
]
SQLITE = list(_COMMON)
POSTGRES = list(_COMMON)
