"""The ``keng`` command as a person runs it: help texts, the port check, migrate and demo."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli import build_parser, main
from backend.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, cwd: Path, env_extra: dict[str, str] | None = None, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENG_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "demo", "import-areas", "create-admin", "keys", "openapi"):
        assert command in out


def test_serve_help_documents_every_setting():
    text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()
    for flag in ("--host", "--port", "--demo", "--mqtt-port", "--mqtt-url", "--database-url", "--data-dir"):
        assert flag in text
    for env, _, _ in Settings.documented():
        assert env in text


def test_serve_refuses_a_taken_mqtt_port_naming_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("serve", "--mqtt-port", str(port), "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "KENG_MQTT_PORT" in result.stderr


def test_migrate_demo_and_create_admin_on_a_fresh_folder(tmp_path):
    env = {"PYTHONPATH": str(ROOT)}
    status = _run("migrate", "--status", cwd=tmp_path, env_extra=env)
    assert status.returncode == 0, status.stderr
    assert "m0001_core" in status.stdout
    typo = _run("migrate", "--to", "m0001_cor", cwd=tmp_path, env_extra=env)
    assert typo.returncode == 2
    assert "unknown migration 'm0001_cor'" in typo.stderr
    assert "Traceback" not in typo.stderr
    first = _run("demo", cwd=tmp_path, env_extra=env)
    assert first.returncode == 0, first.stderr
    assert "demo.pheduyet" in first.stdout
    assert (tmp_path / "keng-data" / "keng.db").exists()
    assert (tmp_path / "keng-data" / "keys" / "jwt" / "current").exists()
    second = _run("demo", cwd=tmp_path, env_extra=env)
    assert second.returncode == 0, second.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "keng-data" / "keng.db") as conn:
        assert conn.execute("select count(*) from notice").fetchone()[0] == 4
        assert conn.execute("select count(*) from device").fetchone()[0] == 2
        assert conn.execute("select count(*) from area where level='commune'").fetchone()[0] == 3321
    admin = _run(
        "create-admin",
        "--username",
        "quantri",
        "--password-stdin",
        cwd=tmp_path,
        env_extra=env,
        stdin="mot-mat-khau-rat-dai\n",
    )
    assert admin.returncode == 0, admin.stderr
    assert "created" in admin.stdout
    keys = _run("keys", "rotate", cwd=tmp_path, env_extra=env)
    assert keys.returncode == 0
    assert len([line for line in keys.stdout.splitlines() if line[:1] in {"*", " "}]) == 2
    jwt_current = (tmp_path / "keng-data" / "keys" / "jwt" / "current").read_text()
    province = _run("keys", "rotate", "--ring", "province", cwd=tmp_path, env_extra=env)
    assert province.returncode == 0, province.stderr
    assert len([line for line in province.stdout.splitlines() if line[:1] in {"*", " "}]) == 2
    assert (tmp_path / "keng-data" / "keys" / "jwt" / "current").read_text() == jwt_current


def test_bad_environment_value_names_the_variable():
    with pytest.raises(SystemExit, match="KENG_PORT"):
        Settings.from_env({"KENG_PORT": "tám nghìn"})


def test_settings_from_environment_and_overrides():
    settings = Settings.from_env(
        {"KENG_DATABASE_URL": "postgres://x@h/db", "KENG_RUN_WORKERS": "0", "KENG_MQTT_PORT": "2883"},
        port=9000,
    )
    assert settings.effective_database_url == "postgres://x@h/db"
    assert settings.run_workers is False
    assert settings.mqtt_port == 2883
    assert settings.port == 9000
    default = Settings.from_env({})
    assert default.effective_database_url == "sqlite:///keng-data/keng.db"
    assert default.mqtt_embedded
