"""Base for API contracts: msgspec structs, never table rows."""

import msgspec


class Schema(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Unknown fields are refused so a typo in a client is an error, not a silent no-op."""


class Message(msgspec.Struct, kw_only=True):
    ok: bool = True
