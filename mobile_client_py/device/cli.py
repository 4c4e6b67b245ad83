"""``python -m mobile_client_py device``: run N simulated devices against a Kẻng server.

Devices are registered and given credentials through the registry's API with a staff account
(``--username``/``--password``), or read from ``--identities`` (a JSON file a previous run wrote),
then connect to the broker and behave until interrupted or ``--seconds`` pass."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from mobile_client_py.device.clock import RealClock
from mobile_client_py.device.fleet import Fleet, province_keys, provision
from mobile_client_py.device.sim import Behaviour, Identity


def add_parser(subparsers: Any, name: str) -> None:
    p = subparsers.add_parser(name, help="simulated loudspeaker clusters, e-boards or receivers")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--url", default="mqtt://127.0.0.1:1883", help="the MQTT broker")
    p.add_argument("--api", default="http://127.0.0.1:8000", help="the Kẻng server")
    p.add_argument("--username", help="staff account that registers the devices")
    p.add_argument("--password")
    p.add_argument("--area", action="append", default=[], help="area code to place devices in (repeatable)")
    p.add_argument("--kind", default="cluster", choices=["cluster", "eboard", "receiver"])
    p.add_argument(
        "--identities", type=Path, help="JSON file of devices to reuse (written when provisioning)"
    )
    p.add_argument("--drop-probability", type=float, default=0.0, help="chance per tick of dropping offline")
    p.add_argument("--tick", type=float, default=10.0, help="seconds between drop dice")
    p.add_argument("--offline-seconds", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0 = until Ctrl-C)")
    p.add_argument("--report-every", type=float, default=10.0)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    broker = urlparse(args.url)
    async with httpx.AsyncClient(base_url=args.api, timeout=30) as api:
        keys = await province_keys(api)
        if args.identities and args.identities.exists():
            saved = json.loads(args.identities.read_text())
            identities, root = [Identity(**d) for d in saved["devices"]][: args.count], saved["root"]
        else:
            if not (args.username and args.password and args.area):
                print("--username, --password and --area are needed to register devices")
                return 2
            r = await api.post(
                "/api/v1/auth/login", json={"username": args.username, "password": args.password}
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            identities, root = await provision(
                api, headers, count=args.count, area_codes=args.area, kind=args.kind
            )
            if args.identities:
                args.identities.write_text(
                    json.dumps({"root": root, "devices": [asdict(i) for i in identities]})
                )
    behaviour = Behaviour(
        drop_probability=args.drop_probability, tick_seconds=args.tick, offline_seconds=args.offline_seconds
    )
    fleet = Fleet(
        identities, broker.hostname or "127.0.0.1", broker.port or 1883, root, keys, RealClock(), behaviour
    )
    await fleet.start()
    print(json.dumps(fleet.summary(), ensure_ascii=False))
    elapsed = 0.0
    try:
        while not args.seconds or elapsed < args.seconds:
            await asyncio.sleep(args.report_every)
            elapsed += args.report_every
            print(json.dumps(fleet.summary(), ensure_ascii=False))
    finally:
        await fleet.stop()
    return 0
