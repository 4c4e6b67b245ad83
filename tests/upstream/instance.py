"""A second Kẻng instance for federation tests: ``keng serve`` in its own process, on its own
loopback port, with its own SQLite database and embedded broker, driven over real HTTP.

It cannot share the test process: Piccolo binds each table class to one engine per process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from backend.adapters.broker import free_port
from tests.factories import TREE

PASSWORD = "upstream-admin-2026"
STAFF_PASSWORD = "upstream-editor-2026"


class KengProcess:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "server.log"
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KENG_")}
        env.update(
            {
                "KENG_DATA_DIR": str(self.folder / "data"),
                "KENG_HOST": "127.0.0.1",
                "KENG_PORT": str(self.port),
                "KENG_MQTT_PORT": "0",
                "KENG_PROVINCE_CODE": "VN",
                "KENG_LOG_LEVEL": "WARNING",
                "KENG_WORKER_POLL_SECONDS": "0.2",
            }
        )
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "backend.cli", *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def prepare(self) -> None:
        csv = self.folder / "areas.csv"
        csv.write_text(
            "code,name,parent_code,level\n"
            + "".join(f"{code},{name},{parent or ''},{level}\n" for code, name, parent, level in TREE),
            encoding="utf-8",
        )
        self.cli("import-areas", "--csv", str(csv))
        self.cli(
            "create-admin", "--username", "quantri", "--area", "VN", "--password-stdin", stdin=PASSWORD + "\n"
        )

    def launch(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "serve"], env=self.env(), stdout=log, stderr=log
            )
        return self.proc

    async def start(self) -> None:
        self.launch()
        assert self.proc is not None
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                if self.proc.poll() is not None:
                    raise AssertionError(f"upstream exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("upstream did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Staff:
    """A logged-in account on the other instance."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    @classmethod
    async def login(cls, url: str, username: str, password: str) -> Staff:
        async with httpx.AsyncClient(base_url=url) as http:
            answer = await http.post("/api/v1/auth/login", json={"username": username, "password": password})
            assert answer.status_code == 200, answer.text
            return cls(url, answer.json()["access_token"])

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        answer = await self.http.request(method, path, **kwargs)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    async def publish(self, body: dict[str, Any]) -> dict[str, Any]:
        notice = await self.call("POST", "/api/v1/notices", 201, json=body)
        return await self.lifecycle(notice["id"])

    async def lifecycle(self, notice_id: str) -> dict[str, Any]:
        for step in ("submit", "approve", "publish"):
            notice = await self.call("POST", f"/api/v1/notices/{notice_id}/{step}", json={})
        return notice

    async def aclose(self) -> None:
        await self.http.aclose()
