"""Manifest acknowledgements. Proof of play is stored by the broadcast log (``broadcast_play``)."""

from piccolo.columns import UUID, BigSerial, Integer, Timestamptz, Varchar
from piccolo.table import Table


class ManifestAck(Table, tablename="device_manifest_ack"):
    """A device's answer to one manifest: accepted (verified and in use) or rejected with the
    verification failure. ``ack_key`` (manifest and result) is unique per device, so an ack sent
    twice is stored once. Kind, scope, version and thread come from the server's own manifest row,
    not from the device's message."""

    id = BigSerial(primary_key=True)
    device_id = Varchar(length=64)
    ack_key = Varchar(length=120)
    manifest_id = UUID(null=True, default=None)
    scope = Varchar(length=80, default="")
    kind = Varchar(length=12, default="")
    version = Integer(null=True, default=None)
    thread_id = UUID(null=True, default=None, index=True)
    result = Varchar(length=12)
    reason = Varchar(length=64, default="")
    acked_at = Timestamptz()
    received_at = Timestamptz()
