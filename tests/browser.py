"""End-to-end pieces: the real server in a subprocess on a loopback port, and headless Chromium
from Debian (``chromium`` + ``chromium-driver``, installed by ``.ci/run``) driven by Selenium.

Selenium is given both the browser's and the driver's paths, so it never looks for or downloads
either. A missing browser fails the test with the command that installs it; it is never skipped."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from backend.adapters.broker import free_port
from backend.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
WAIT_SECONDS = 20


def _env(settings: Settings, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENG_")}
    env.update(
        {
            "KENG_DATA_DIR": str(settings.data_dir),
            "KENG_DATABASE_URL": settings.effective_database_url,
            "KENG_MQTT_URL": settings.mqtt_url,
            "KENG_MQTT_PORT": str(settings.mqtt_port),
            "KENG_MQTT_NAMESPACE": settings.mqtt_namespace,
            "KENG_HOST": "127.0.0.1",
            "KENG_PORT": str(port),
            "KENG_RUN_WORKERS": "0",
            "KENG_LOGIN_RATE_PER_MINUTE": str(settings.login_rate_per_minute),
            "KENG_LOG_LEVEL": "WARNING",
        }
    )
    return env


@contextlib.contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """``keng serve`` on a free loopback port against the test's database and broker; yields its
    base URL once ``/health`` answers, and stops it afterwards."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve"],
            env=_env(settings, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield _wait_until_up(process, log, f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], log: Any, base: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"keng serve exited {process.returncode}: {log.read().decode()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return base
        if time.monotonic() > deadline:
            raise RuntimeError("keng serve did not answer /health within 60 s")
        time.sleep(0.2)


@contextlib.contextmanager
def chromium(language: str = "vi-VN,vi") -> Iterator[webdriver.Chrome]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert binary.exists(), f"{binary} is missing: apt-get install -y chromium chromium-driver"
    profile = tempfile.mkdtemp(prefix="keng-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--lang={language.split(',')[0]}")
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], Any]) -> Any:
    """Until ``condition`` holds. A page that reloads after a form post replaces its elements, so
    an element found just before the reload is stale by the time it is read: look again. Chromium
    says so as a stale element, or — when the reload lands between finding and reading — as an
    inspector error that the node "does not belong to the document"."""

    def attempt(d: webdriver.Chrome) -> Any:
        try:
            return condition(d)
        except WebDriverException as exc:
            if "does not belong to the document" in (exc.msg or ""):
                return False
            raise

    return WebDriverWait(
        driver, WAIT_SECONDS, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(attempt)
