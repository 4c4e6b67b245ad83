"""Three-way, per-field merge of a phone's change into the server's row.

For each field the phone changed we know three values: ``base`` (what the phone saw when it made
the change), ``server`` (what the server holds now) and ``client`` (what the phone wants). If the
server still holds the base, nobody else touched the field and the phone's value goes in. If the
server already holds the phone's value there is nothing to do. Otherwise both sides changed the same
field: the field's rule decides, and the caller records a conflict. Untouched fields never conflict.

A mutation of protocol 1 carries no base values, only the row version it was made on (``UNKNOWN``
base): if the row has not changed since, the phone's value goes in; otherwise every field whose
value differs counts as changed on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.sync.registry import Field


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Merged:
    value: Any
    conflict: bool
    changed: bool  # does the server's value change?


def merge(rule: Field, base: Any, server: Any, client: Any, row_unchanged: bool = False) -> Merged:
    if client == server:
        return Merged(server, False, False)
    if base is UNKNOWN:
        if row_unchanged:
            return Merged(client, False, True)
    elif base == server:
        return Merged(client, False, True)
    elif base == client:
        return Merged(server, False, False)
    value = resolve(rule, None if base is UNKNOWN else base, server, client)
    return Merged(value, True, value != server)


def resolve(rule: Field, base: Any, server: Any, client: Any) -> Any:
    """The value a same-field conflict settles on."""
    if rule.rule == "client_wins":
        return client
    if rule.rule == "server_wins":
        return server
    if rule.rule == "max":
        rank = {v: i for i, v in enumerate(rule.order)}
        return client if rank.get(client, -1) > rank.get(server, -1) else server
    if rule.rule == "union":
        return union3(base or [], server or [], client or [])
    if rule.rule == "merge_keys":
        return merge_keys3(base or {}, server or {}, client or {})
    raise ValueError(rule.rule)


def union3(base: list[Any], server: list[Any], client: list[Any]) -> list[Any]:
    """Keep the server's order; drop what the phone removed; append what the phone added."""
    removed = [v for v in base if v not in client]
    added = [v for v in client if v not in base and v not in server]
    return [v for v in server if v not in removed] + added


def merge_keys3(base: dict[str, Any], server: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    out = dict(server)
    for key in set(base) | set(client):
        b, c = base.get(key, UNKNOWN), client.get(key, UNKNOWN)
        if b == c:
            continue  # the phone did not touch this key
        if c is UNKNOWN:
            out.pop(key, None)
        else:
            out[key] = c
    return out
