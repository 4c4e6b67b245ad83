"""``keng devices …`` as an operator runs it on a fresh data folder."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.cli import main

AREAS = "code,name,parent_code,level\nVN,Việt Nam,,nation\n38,Thanh Hóa,VN,province\n38001,Xã Hoằng Hóa,38,commune\n"
DEVICES = "kind,area_code,name,hardware_id\ncluster,38001,Cụm loa 1,HW-1\neboard,38001,Bảng tin,HW-2\n"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def keng(tmp_path, monkeypatch, capsys) -> Callable[..., Ran]:
    """Run ``keng …`` in this process on a fresh folder (no KENG_* from the environment)."""
    for name in [n for n in os.environ if n.startswith("KENG_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, cwd: Path) -> Ran:
        code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def test_import_credentials_and_mosquitto_export(tmp_path, keng):
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    (tmp_path / "devices.csv").write_text(DEVICES, encoding="utf-8")
    assert keng("import-areas", "--csv", "areas.csv", cwd=tmp_path).returncode == 0
    imported = keng("devices", "import", "devices.csv", "--claim-codes", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 devices" in imported.stdout
    ids = re.findall(r"row \d: ([0-9a-f-]{36})  .*  ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", imported.stdout)
    assert len(ids) == 2
    again = keng("devices", "import", "devices.csv", cwd=tmp_path)
    assert again.returncode == 1 and "already registered" in again.stderr

    creds = keng("devices", "credentials", ids[0][0], cwd=tmp_path)
    assert creds.returncode == 0, creds.stderr
    assert "password " in creds.stdout
    out = tmp_path / "auth"
    export = keng("devices", "export-mosquitto-auth", "--out", str(out), cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    lines = (out / "passwords").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["keng-server", ids[0][0]]
    acl = (out / "acl").read_text()
    assert f"user {ids[0][0]}" in acl and f"topic write keng/v1/devices/{ids[0][0]}/status" in acl
    assert ids[1][0] not in acl  # no credentials yet: not allowed in

    revoked = keng("devices", "revoke", ids[0][0], cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked 1" in revoked.stdout
    assert keng("devices", "export-mosquitto-auth", "--out", str(out), cwd=tmp_path).returncode == 0
    assert (out / "passwords").read_text().splitlines()[1:] == []
