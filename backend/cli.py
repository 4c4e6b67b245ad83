"""The ``keng`` command: serve, migrate, demo data, area import, keys and the OpenAPI document."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from backend.lib import logs
from backend.settings import Settings

OPENAPI_PATH = Path("openapi") / "openapi.json"


def _settings_epilog() -> str:
    lines = ["Settings (environment variables; flags above override them):"]
    for env, default, help_text in Settings.documented():
        lines.append(f"  {env:<28} {help_text} [default: {default or '-'}]")
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "data_dir", "database_url", "mqtt_url", "mqtt_port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = Path(value) if name == "data_dir" else value
    if getattr(args, "no_workers", False):
        overrides["run_workers"] = False
    return Settings.from_env(**overrides)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="folder for the SQLite file, keys and media (KENG_DATA_DIR)")
    parser.add_argument("--database-url", help="sqlite:///… or postgres://… (KENG_DATABASE_URL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keng",
        description="Kẻng — provincial source-information system (hệ thống thông tin nguồn cấp tỉnh).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_settings_epilog(),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the HTTP API with its database, MQTT broker and workers",
        description="Run the server. Migrations are applied at start. With no settings it uses a SQLite file "
        "under ./keng-data and an MQTT broker inside the process, so nothing else needs installing.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_settings_epilog(),
    )
    serve.add_argument("--host", help="HTTP listen address (KENG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP listen port (KENG_PORT, default 8000)")
    serve.add_argument("--mqtt-url", help="'embedded' or mqtt://host:port (KENG_MQTT_URL)")
    serve.add_argument("--mqtt-port", type=int, help="embedded broker port (KENG_MQTT_PORT, default 1883)")
    serve.add_argument(
        "--demo", action="store_true", help="load demo data (Thanh Hóa, one account per role) first"
    )
    serve.add_argument(
        "--no-workers", action="store_true", help="do not run the outbox worker in this process"
    )
    _add_common(serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (serve does this too)")
    migrate.add_argument("--to", help="stop after this migration id")
    migrate.add_argument("--status", action="store_true", help="list applied and pending migrations")
    _add_common(migrate)

    demo = sub.add_parser("demo", help="load demo data (idempotent) and print the demo accounts")
    _add_common(demo)

    imp = sub.add_parser("import-areas", help="import the administrative tree")
    group = imp.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--vietnam", action="store_true", help="34 provinces and 3,321 communes (2025 structure)"
    )
    group.add_argument("--csv", type=Path, help="CSV file with columns code,name,parent_code,level")
    _add_common(imp)

    admin = sub.add_parser("create-admin", help="create an admin account on an area subtree")
    admin.add_argument("--username", required=True)
    admin.add_argument("--area", default=None, help="area code (default: KENG_PROVINCE_CODE)")
    admin.add_argument("--full-name", default="Quản trị hệ thống")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _add_common(admin)

    keys = sub.add_parser("keys", help="list or rotate the token-signing or province-signing keys")
    keys.add_argument("action", choices=["list", "rotate"])
    keys.add_argument(
        "--ring",
        choices=["jwt", "province"],
        default="jwt",
        help="jwt: access tokens (default); province: manifests for devices and reports sent upstream",
    )
    keys.add_argument("--data-dir", help="folder holding keys/ (KENG_DATA_DIR)")

    o311 = sub.add_parser("open311-key", help="issue, list or revoke Open311 client api_keys")
    o311.add_argument("action", choices=["create", "list", "revoke"])
    o311.add_argument("name", nargs="?", help="the client's name (create, revoke)")
    _add_common(o311)

    sync = sub.add_parser("sync", help="offline sync: start a new epoch after restoring a backup")
    sync.add_argument(
        "action",
        choices=["new-epoch"],
        help="new-epoch: every phone replaces its rows with a fresh snapshot and re-sends what was lost",
    )
    _add_common(sync)

    from backend.devices import cli as devices_cli

    devices_cli.add_parser(sub, _add_common)

    openapi = sub.add_parser("openapi", help="write (or --check) the committed OpenAPI document")
    openapi.add_argument("--check", action="store_true", help="exit 1 if openapi/openapi.json is stale")
    openapi.add_argument("--output", type=Path, default=OPENAPI_PATH)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(Settings.from_env().log_level)
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    return handler(args)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.app import create_app

    settings = _settings(args)
    if (
        settings.mqtt_embedded
        and settings.mqtt_port
        and not _port_free(settings.mqtt_host, settings.mqtt_port)
    ):
        print(
            f"keng: the embedded MQTT broker cannot listen on {settings.mqtt_host}:{settings.mqtt_port} (port in use).\n"
            "Set KENG_MQTT_PORT (or --mqtt-port) to a free port, or KENG_MQTT_URL=mqtt://host:port to use a "
            "running broker.",
            file=sys.stderr,
        )
        return 2
    if args.demo:
        _run_with_runtime(settings, _load_demo)
    app = create_app(settings)
    # Everything loaded so far (modules, classes, the app) lives as long as the process: out of the
    # garbage collector's sight, a full collection walks only what requests allocate. A sync page of
    # a thousand rows otherwise pays for walking the whole heap, sometimes twice.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from backend.lib import migrations
    from backend.lib.db import Database
    from backend.tables import ALL_TABLES

    settings = _settings(args)

    async def run() -> None:
        async with Database(settings.effective_database_url).session(ALL_TABLES) as db:
            if args.status:
                done = await migrations.applied(db)
                for m in migrations.discover():
                    print(f"{'applied' if m.id in done else 'pending'}  {m.id}")
                return
            ran = await migrations.migrate(db, target=args.to)
            print("applied: " + (", ".join(ran) if ran else "nothing (up to date)"))

    try:
        asyncio.run(run())
    except ValueError as exc:  # an unknown --to target: nothing was applied
        print(f"keng: {exc}; nothing applied (see `keng migrate --status`)", file=sys.stderr)
        return 2
    return 0


async def _load_demo(rt: Any) -> None:
    from backend import demo

    people = await demo.load(rt)
    print(
        "Demo data loaded: Thanh Hóa (38) with its communes. Demo accounts (username / password / role / area):"
    )
    for p in people:
        print(f"  {p.username:<16} {p.password:<20} {p.role.value:<18} {p.area}")
    print("  citizen device id: demo-citizen-device")
    print("Staff web console: /console (e.g. log in as demo.phananh to handle feedback)")


def cmd_demo(args: argparse.Namespace) -> int:
    _run_with_runtime(_settings(args), _load_demo)
    return 0


def cmd_import_areas(args: argparse.Namespace) -> int:
    from backend.core.areas import services as areas

    async def run(rt: Any) -> None:
        if args.vietnam:
            result = await areas.import_vietnam(rt)
        else:
            records = areas.parse_csv(args.csv.read_text(encoding="utf-8"))
            async with rt.db.transaction():
                result = await areas.import_records(rt, records)
        print(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")

    _run_with_runtime(_settings(args), run)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from backend.core.accounts import admin as staff_admin
    from backend.core.accounts.permissions import Role
    from backend.core.accounts.schemas import GrantIn
    from backend.core.areas import services as areas

    settings = _settings(args)
    password = (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Mật khẩu / password: ")
    )
    if len(password) < 10:
        print("keng: the password needs at least 10 characters", file=sys.stderr)
        return 2

    async def run(rt: Any) -> None:
        area = args.area or settings.province_code
        await areas.get(rt, area)
        created = await staff_admin.ensure_staff(
            rt, args.username.lower(), password, args.full_name, [GrantIn(role=Role.ADMIN, area_code=area)]
        )
        print("created" if created else "exists already; nothing changed")

    _run_with_runtime(settings, run)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from backend.lib.crypto import KeyRing

    settings = _settings(args)
    ring = KeyRing(settings.effective_keys_dir / args.ring).load_or_create()
    if args.action == "rotate":
        key = ring.rotate()
        print(f"new current key {key.kid}; older keys still verify until removed")
    for key in ring.keys:
        print(f"{'*' if key.kid == ring.current.kid else ' '} {key.kid}")
    return 0


def cmd_open311_key(args: argparse.Namespace) -> int:
    from backend.citizen.feedback import open311

    if args.action in {"create", "revoke"} and not (args.name or "").strip():
        print(f"keng: open311-key {args.action} needs a NAME", file=sys.stderr)
        return 2

    async def run(rt: Any) -> None:
        if args.action == "create":
            key = await open311.create_key(rt, args.name.strip())
            print(f"api_key for {args.name.strip()} (shown once, keep it secret):\n{key}")
        elif args.action == "revoke":
            print(f"revoked {await open311.revoke_key(rt, args.name.strip())} key(s)")
        else:
            for row in await open311.list_keys(rt):
                state = "active " if row["active"] else "revoked"
                print(f"{state}  {row['name']:<32} created {row['created_at']:%Y-%m-%d}  id {row['id']}")

    _run_with_runtime(_settings(args), run)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from backend.devices import cli as devices_cli

    status = 0

    async def run(rt: Any) -> None:
        nonlocal status
        status = await devices_cli.run(rt, args)

    _run_with_runtime(_settings(args), run)
    return status


def openapi_document() -> str:
    from backend.app import create_app

    app = create_app(Settings())
    return json.dumps(app.openapi_schema.to_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    document = openapi_document()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != document:
            print(f"{args.output} is stale: run `keng openapi`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    async def new_epoch(rt: Any) -> None:
        from backend.core.accounts.permissions import Actor
        from backend.core.audit import services as audit
        from backend.sync.state import get_state, new_epoch

        before = (await get_state(rt)).epoch
        epoch = await new_epoch(rt)
        await audit.record(
            rt,
            Actor.system("cli"),
            "sync.new_epoch",
            target_type="sync",
            target_id=epoch,
            details={"previous": before},
        )
        print(f"new sync epoch {epoch} (was {before}): phones will reset at their next sync")

    _run_with_runtime(_settings(args), new_epoch)
    return 0


def _run_with_runtime(settings: Settings, fn: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``fn`` with a runtime on the configured database, without HTTP or MQTT."""
    from backend.adapters.clock import SystemClock
    from backend.adapters.mqtt import InMemoryBus
    from backend.core.categories import services as categories
    from backend.lib import migrations
    from backend.lib.db import Database
    from backend.runtime import Runtime
    from backend.tables import ALL_TABLES

    async def run() -> None:
        async with Database(settings.effective_database_url).session(ALL_TABLES) as db:
            await migrations.migrate(db)
            # Commands that only write to the database publish nothing; the server's outbox does that.
            rt = Runtime.open(settings, db, SystemClock(), InMemoryBus())
            await categories.seed_defaults(rt)
            await fn(rt)

    asyncio.run(run())


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "import-areas": cmd_import_areas,
    "create-admin": cmd_create_admin,
    "keys": cmd_keys,
    "openapi": cmd_openapi,
    "sync": cmd_sync,
    "devices": cmd_devices,
    "open311-key": cmd_open311_key,
}

if __name__ == "__main__":
    sys.exit(main())
