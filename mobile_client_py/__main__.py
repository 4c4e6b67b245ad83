"""``python -m mobile_client_py <role> …``: act as a phone from the command line.

Each role is a module with ``add_parser(subparsers)`` and ``run(args) -> int``; add a role (a device
simulator, say) by listing its module in ``ROLES``."""

from __future__ import annotations

import argparse
import importlib
import sys

ROLES = {
    "official": "mobile_client_py.official_cli",
    "device": "mobile_client_py.device.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mobile_client_py", description="Kẻng reference clients")
    sub = parser.add_subparsers(dest="role", required=True, metavar="ROLE")
    for name, module in ROLES.items():
        importlib.import_module(module).add_parser(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(importlib.import_module(ROLES[args.role]).run(args))


if __name__ == "__main__":
    sys.exit(main())
