"""A real Mosquitto, started by the test on a free port with the exported password and ACL files:
each device logs in with its own password and is confined to its topics; after a revocation, a new
export and a reload, the device is dropped if connected and cannot log in again; a device moved
elsewhere stops receiving its old topics. (The system Mosquitto on 1883 is never touched.)"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import httpx
import pytest

from backend.adapters.broker import free_port
from backend.adapters.mqtt import BrokerAddress
from backend.app import create_app
from backend.core.accounts.permissions import Role
from backend.core.audit.tables import AuditEntry
from backend.devices import mosquitto
from backend.devices.topics import Topics
from tests.broadcast.support import station
from tests.conftest import running
from tests.devices.acl_scenario import device_is_confined, refused, strangers_are_refused
from tests.devices.support import BASE, WAIT, as_device, as_server, next_message, registered

MOSQUITTO = "/usr/sbin/mosquitto"


@contextlib.asynccontextmanager
async def mosquitto_on(folder: Path) -> AsyncIterator[tuple[BrokerAddress, Path]]:
    """Mosquitto reading ``folder``'s exported files; yields its address and a pid file to signal."""
    for _ in range(5):
        port = free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {folder / mosquitto.PASSWORD_FILE}\n"
            f"acl_file {folder / mosquitto.ACL_FILE}\n"
            "persistence false\n"
            "user root\n"
            "log_dest stderr\n"
        )
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)  # noqa: ASYNC220
        if await _listening(port, proc):
            break
        proc.kill()
        proc.wait()
    else:
        raise RuntimeError("mosquitto did not start")
    pid_file = folder / "mosquitto.pid"
    pid_file.write_text(str(proc.pid))
    try:
        yield BrokerAddress("127.0.0.1", port), pid_file
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _listening(port: int, proc: subprocess.Popen) -> bool:
    async with asyncio.timeout(WAIT):
        while proc.poll() is None:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return True
    return False


async def test_mosquitto_enforces_the_exported_passwords_and_acls(
    client, factory, app_rt, settings, tmp_path
):
    await factory.tree()
    await station(client, factory, "38001")
    await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01")
    b = await registered(client, admin, "38002")
    retired = await registered(client, admin, "38001")
    await client.post(f"{BASE}/{retired.id}/retire", headers=admin.headers)
    folder = tmp_path / "mosquitto"
    exported = await mosquitto.export(app_rt, folder)
    assert exported.devices == 2
    text = exported.password_file.read_text()
    assert a.password not in text and f"{a.id}:$7$101$" in text and retired.id not in text
    assert oct(exported.password_file.stat().st_mode & 0o777) == "0o640"

    async with mosquitto_on(folder) as (address, pid_file):
        await device_is_confined(address, settings, a, b, suback_refuses=False)
        await strangers_are_refused(address, a)
        await refused(address, retired)

    async with mosquitto_on(folder) as (address, pid_file), as_device(address, a) as connected:
        r = await client.post(f"{BASE}/{a.id}/revoke", headers=admin.headers)
        assert r.status_code == 200
        again = await mosquitto.export(app_rt, folder, pid_file)
        # On reload Mosquitto drops a connected client whose user left the password file.
        with pytest.raises(aiomqtt.MqttError):
            await next_message(connected)
        assert again.reloaded_pid == int(pid_file.read_text()) and again.devices == 1
        assert a.id not in again.password_file.read_text()
        exports = await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.action == "device.mosquitto_export"
        )
        assert len(exports) == 2
        # Mosquitto reloads on SIGHUP in its own time: try until it refuses A (B still gets in).
        async with asyncio.timeout(WAIT):
            while True:
                try:
                    async with as_device(address, a):
                        pass
                except aiomqtt.MqttError:
                    break
                await asyncio.sleep(0.05)
        async with as_device(address, b):
            pass


async def test_a_connected_device_moved_elsewhere_stops_receiving_its_old_areas_after_reload(
    client, factory, app_rt, settings, tmp_path
):
    """Mosquitto checks the ACL when it delivers, so a device that stays connected through a move
    receives nothing more on its old area's topics once the new files are loaded."""
    await factory.tree()
    await station(client, factory, "38001")
    await station(client, factory, "38002")
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01")
    topics = Topics.for_settings(settings)
    old_area = topics.area_emergency("38001-01", "t-old")
    folder = tmp_path / "mosquitto"
    await mosquitto.export(app_rt, folder)
    async with mosquitto_on(folder) as (address, pid_file), as_device(address, a) as device:
        await device.subscribe(topics.area_emergency_filter("38001-01"), qos=1)
        async with as_server(address, settings) as server:
            await server.publish(old_area, b"before", qos=1)
            assert (await next_message(device)).payload == b"before"
            moved = await client.patch(
                f"{BASE}/{a.id}",
                json={"area_code": "38002", "row_version": a.body["row_version"]},
                headers=admin.headers,
            )
            assert moved.status_code == 200, moved.text
            await mosquitto.export(app_rt, folder, pid_file)
            # The reload happens in Mosquitto's own time: publish until the old topic stays silent.
            await device.subscribe(topics.device(a.id, "commands"), qos=1)
            async with asyncio.timeout(WAIT):
                while True:
                    await server.publish(old_area, b"after", qos=1)
                    await server.publish(topics.device(a.id, "commands"), b"marker", qos=1)
                    seen = [(await next_message(device)).payload]
                    while seen[-1] != b"marker":
                        seen.append((await next_message(device)).payload)
                    if seen == [b"marker"]:
                        break


async def test_with_its_auth_folder_configured_keng_keeps_mosquitto_in_step_by_itself(
    client, factory, app_rt, settings, tmp_path
):
    """``KENG_MOSQUITTO_AUTH_DIR`` and ``KENG_MOSQUITTO_PID_FILE`` set: new credentials can log in
    and a revoked device is dropped, with no one running the export command."""
    await factory.tree()
    await station(client, factory, "38001")
    admin = await factory.user((Role.ADMIN, "VN"))
    a = await registered(client, admin, "38001-01")
    folder = tmp_path / "mosquitto"
    await mosquitto.export(app_rt, folder)  # what Mosquitto starts with
    async with mosquitto_on(folder) as (address, pid_file):
        own = settings.with_(
            mqtt_url=f"mqtt://{address.host}:{address.port}",
            mosquitto_auth_dir=folder,
            mosquitto_pid_file=pid_file,
        )
        app = create_app(own)
        async with running(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                b = await registered(http, admin, "38001-02")
                await _logs_in_soon(address, b)  # Mosquitto reloads in its own time
                async with as_device(address, a) as connected:
                    r = await http.post(f"{BASE}/{a.id}/revoke", headers=admin.headers)
                    assert r.status_code == 200, r.text
                    with pytest.raises(aiomqtt.MqttError):
                        await next_message(connected)
                await refused(address, a)
                async with as_device(address, b):
                    pass


async def _logs_in_soon(address, device) -> None:
    async with asyncio.timeout(WAIT):
        while True:
            try:
                async with as_device(address, device):
                    return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)
