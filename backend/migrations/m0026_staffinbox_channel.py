"""The outbox channel that writes and pushes staff inbox entries was named for its first producer
(``devicealarm``); it now also carries the programme's notices to officials and is ``staffinbox``.
Every row under the old name that was not delivered — pending (leased or not) or dead — moves to
the new one, so an upgrade loses nothing queued and no row waits for a handler that no longer
exists. Delivered rows keep the name they were delivered under."""

_COMMON = [
    'UPDATE "outbox_message" SET "channel" = \'staffinbox\' '
    "WHERE \"channel\" = 'devicealarm' AND \"status\" <> 'done'",
]
SQLITE = list(_COMMON)
POSTGRES = list(_COMMON)
