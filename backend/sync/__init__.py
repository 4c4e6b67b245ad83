"""The offline sync protocol for commune officials; it reads ``core.changes``."""
