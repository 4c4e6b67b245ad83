"""Print frozen CREATE statements for both dialects, to paste into a new migration module.

Usage: python tools/ddl.py backend.core.areas.tables:Area [...]
"""

import importlib
import pprint
import sys

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine


def main() -> None:
    tables = []
    for spec in sys.argv[1:]:
        module, name = spec.split(":")
        tables.append(getattr(importlib.import_module(module), name))
    engines = {
        "SQLITE": SQLiteEngine(path=":memory:"),
        "POSTGRES": PostgresEngine(config={"dsn": "postgres://"}),
    }
    for label, engine in engines.items():
        statements = []
        for table in tables:
            table._meta.db = engine
            # Piccolo writes a Python ``None`` default for UUID columns on SQLite; values are always given.
            statements.extend(s.replace(" DEFAULT None", "") for s in table.create_table().ddl)
        print(f"{label} = ", end="")
        pprint.pprint(statements, width=110)


if __name__ == "__main__":
    main()
