"""``python -m mobile_client_py official …``: an offline commune official on the command line.

The phone's store is a SQLite file (``--db``, default ``./official.db``); everything except ``login``,
``sync`` and ``upload`` works without a connection. Examples::

    python -m mobile_client_py official login demo.canbo
    python -m mobile_client_py official notice-new --title "Lịch tiêm chủng" --body "…" --area 38001 --category health
    python -m mobile_client_py official feedback-new --area 38001-01 --category health --text "…"
    python -m mobile_client_py official sync
    python -m mobile_client_py official conflicts
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from mobile_client_py.blobs import BlobQueue
from mobile_client_py.offline import OfflineOfficial, SyncFailed
from mobile_client_py.store import Store


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="an offline commune official (login, work offline, sync, conflicts)")
    p.add_argument("--server", default="http://127.0.0.1:8000", help="server base URL")
    p.add_argument("--db", default="official.db", help="the phone's local store (SQLite file)")
    cmds = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    login = cmds.add_parser("login", help="sign in (asks for the password)")
    login.add_argument("username")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sync = cmds.add_parser("sync", help="push the queue and pull changes until up to date")
    sync.add_argument("--verify", action="store_true", help="check per-table digests and repair what differs")
    cmds.add_parser("status", help="cursor, queue and rejected changes")
    for table in ("notices", "feedback", "areas"):
        cmds.add_parser(table, help=f"list the {table} on this phone")
    new = cmds.add_parser("notice-new", help="draft a notice offline")
    new.add_argument("--title", required=True)
    new.add_argument("--body", required=True)
    new.add_argument("--area", action="append", required=True, help="target area code (repeatable)")
    new.add_argument("--category", required=True, help="a notice category code (health, local_admin, …)")
    new.add_argument("--priority", default="normal", choices=["normal", "priority", "emergency"])
    edit = cmds.add_parser("notice-edit", help="edit a draft offline")
    edit.add_argument("id")
    edit.add_argument("--title")
    edit.add_argument("--body")
    edit.add_argument("--priority", choices=["normal", "priority", "emergency"])
    delete = cmds.add_parser("notice-delete", help="discard a draft offline")
    delete.add_argument("id")
    fb = cmds.add_parser("feedback-new", help="enter feedback taken on paper")
    fb.add_argument("--area", required=True)
    fb.add_argument("--category", required=True)
    fb.add_argument("--text", required=True)
    fb.add_argument("--address", default="")
    fb.add_argument("--name", default="", help="the citizen's name, if they gave it")
    fb.add_argument("--phone", default="")
    fbs = cmds.add_parser("feedback-status", help="move a report on: accepted, in_progress, resolved")
    fbs.add_argument("id")
    fbs.add_argument("status", choices=["accepted", "in_progress", "resolved"])
    cmds.add_parser("conflicts", help="open conflicts on this phone")
    res = cmds.add_parser("resolve", help="settle a conflict: keep the chosen value or restore the lost one")
    res.add_argument("id")
    res.add_argument("resolution", choices=["keep", "restore"])
    cmds.add_parser("rejected", help="changes the server refused, with the reason")
    add = cmds.add_parser("attach", help="queue a file (photo, recording) for upload; prints its sha256")
    add.add_argument("file")
    add.add_argument("--mime", default="application/octet-stream")
    cmds.add_parser("upload", help="upload queued files (resumes where it stopped)")


def _print(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


async def _run(args: argparse.Namespace) -> int:
    store = Store(Path(args.db))
    async with httpx.AsyncClient(base_url=args.server, timeout=60) as http:
        phone = OfflineOfficial(store, http)
        c = args.command
        if c == "login":
            password = (
                sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Mật khẩu: ")
            )
            await phone.login(args.username, password)
            _print({"device": phone.device, "account": store.get("account")})
        elif c == "sync":
            report = await phone.sync(verify=args.verify)
            _print(report.__dict__)
        elif c == "status":
            _print(
                {
                    "device": phone.device,
                    "cursor": store.get("cursor", 0),
                    "epoch": store.get("epoch"),
                    "pending": len(store.pending()),
                    "rejected": len(phone.rejected()),
                    "conflicts": len(phone.conflicts()),
                }
            )
        elif c in ("notices", "feedback", "areas"):
            table = {"notices": "notice", "feedback": "feedback", "areas": "area"}[c]
            _print(phone.rows(table))
        elif c == "notice-new":
            fields = {
                "title": args.title,
                "body": args.body,
                "targets": args.area,
                "category": args.category,
                "priority": args.priority,
            }
            _print({"id": phone.create("notice", fields)})
        elif c == "notice-edit":
            changes = {k: v for k in ("title", "body", "priority") if (v := getattr(args, k)) is not None}
            _print({"seq": phone.update("notice", args.id, changes)})
        elif c == "notice-delete":
            _print({"seq": phone.delete("notice", args.id)})
        elif c == "feedback-new":
            fields = {
                "area": args.area,
                "category": args.category,
                "text": args.text,
                "address": args.address,
            }
            fields.update({k: v for k in ("name", "phone") if (v := getattr(args, k))})
            _print({"id": phone.create("feedback", fields)})
        elif c == "feedback-status":
            _print({"seq": phone.update("feedback", args.id, {"status": args.status})})
        elif c == "conflicts":
            _print(phone.conflicts())
        elif c == "resolve":
            _print({"seq": phone.resolve(args.id, args.resolution)})
        elif c == "rejected":
            _print(
                [
                    {"seq": m["seq"], "table": m["t"], "id": m["id"], "error": (m["answer"] or {}).get("err")}
                    for m in phone.rejected()
                ]
            )
        elif c == "attach":
            _print({"sha256": BlobQueue(phone).add(Path(args.file), args.mime)})
        elif c == "upload":
            _print((await BlobQueue(phone).upload_all()).__dict__)
    store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except SyncFailed as exc:
        _print({"error": exc.body, "status": exc.status})
        return 1
    except KeyError as exc:
        _print({"error": str(exc)})
        return 1
