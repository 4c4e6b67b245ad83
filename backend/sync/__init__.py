"""The offline sync protocol for commune officials: registration of synced tables, the blob store.

Other domains use only what is exported here:

- :class:`Registry`, :class:`SyncedTable`, :class:`Field`, :class:`Row`, :class:`Context` and
  :class:`TableSource` to put a table on officials' phones (see ``backend/sync/registry.py`` and
  ``openapi/sync-protocol.md``);
- :func:`get_blob` / :class:`BlobInfo` to use a file a phone uploaded (only when ``complete``:
  its bytes were verified against its sha256)."""

from backend.sync.blobs import BlobInfo, get_blob
from backend.sync.mutations import RowChanged
from backend.sync.registry import Context, Field, Registry, Row, SyncedTable, any_id, uuid_id
from backend.sync.source import TableSource, like_prefix, scope_condition, wire_value

__all__ = [
    "BlobInfo",
    "Context",
    "Field",
    "Registry",
    "Row",
    "RowChanged",
    "SyncedTable",
    "TableSource",
    "any_id",
    "get_blob",
    "like_prefix",
    "scope_condition",
    "uuid_id",
    "wire_value",
]
