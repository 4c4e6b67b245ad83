"""``keng devices …``: provisioning from the command line and Mosquitto's auth files.

The operator at the console is trusted like an admin of the whole tree (they hold the database);
every action is still audited, as the ``cli`` system actor."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

from backend.core.accounts.permissions import Actor, Grant, Role
from backend.core.areas.tables import Area


def add_parser(sub: Any, add_common: Any) -> None:
    devices = sub.add_parser("devices", help="device provisioning and the Mosquitto password/ACL files")
    actions = devices.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export-mosquitto-auth",
        help="write Mosquitto's password_file and acl_file from the registry, then reload Mosquitto",
    )
    export.add_argument("--out", type=Path, required=True, help="folder for the 'passwords' and 'acl' files")
    export.add_argument("--pid-file", type=Path, help="Mosquitto's pid file: send it SIGHUP to reload")
    add_common(export)
    imp = actions.add_parser("import", help="import devices from CSV, all or nothing")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--claim-codes", action="store_true", help="print a one-time claim code per device")
    add_common(imp)
    for name, text in (
        ("credentials", "issue a device a new password (printed once; the old one stops working)"),
        ("claim-code", "issue a device a one-time claim code"),
        ("revoke", "revoke every credential of a device"),
    ):
        one = actions.add_parser(name, help=text)
        one.add_argument("device_id", type=uuid.UUID)
        add_common(one)


async def operator(rt: Any) -> Actor:
    roots = await Area.select(Area.code, Area.path).where(Area.parent_code.is_null())
    grants = tuple(Grant(Role.ADMIN, r["code"], r["path"]) for r in roots)
    return Actor(account_id=None, kind="system", grants=grants, extra={"reason": "cli"})


async def run(rt: Any, args: argparse.Namespace) -> int:
    from backend.devices import credentials, imports, mosquitto, provisioning
    from backend.lib.errors import DomainError

    try:
        actor = await operator(rt)
        if args.action == "export-mosquitto-auth":
            done = await mosquitto.export(rt, args.out, args.pid_file, actor)
            reloaded = f"; sent SIGHUP to {done.reloaded_pid}" if done.reloaded_pid else ""
            print(f"wrote {done.password_file} and {done.acl_file} ({done.devices} devices){reloaded}")
            return 0
        if args.action == "import":
            result = await imports.import_csv(
                rt, actor, args.csv.read_text(encoding="utf-8"), claim_codes=args.claim_codes
            )
            for item in result.items:
                code = f"  {item.claim_code}" if item.claim_code else ""
                print(f"row {item.row}: {item.device_id}  {item.name}{code}")
            print(f"imported {result.created} devices")
        elif args.action == "credentials":
            creds = await credentials.issue_credentials(rt, actor, args.device_id)
            print(
                f"username {creds.username}\npassword {creds.password}\n(shown once; version {creds.version})"
            )
        elif args.action == "claim-code":
            claim = await provisioning.issue_claim_code(rt, actor, args.device_id)
            print(f"claim code {claim.code} (valid until {claim.expires_at:%Y-%m-%d %H:%M} UTC)")
        elif args.action == "revoke":
            print(f"revoked {await provisioning.revoke(rt, actor, args.device_id)} credential(s)")
    except DomainError as exc:
        print(f"keng: {exc.code}: {exc.details or exc.params}", file=sys.stderr)
        return 1
    return 0
