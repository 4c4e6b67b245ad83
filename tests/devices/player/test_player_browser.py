"""The e-board player page in headless Chromium against the real server: it signs in with the
board's own credentials, shows the playlist, switches to an emergency within about a second of
its manifest being issued, reports proof of play, and keeps showing what it had (also after a
reload, from its service worker) once the server is gone."""

from __future__ import annotations

import base64
import time
import uuid

import httpx
from selenium.webdriver.common.by import By

from backend.broadcast import emergency
from backend.broadcast.eboard import build_eboard
from backend.broadcast.tables import PlayRecord
from backend.core.accounts.permissions import Role
from mobile_client_py.device import provision
from tests.browser import chromium, live_server, wait
from tests.factories import Factory, notice_body

NOTICE = "Lịch tiêm chủng tháng 12"
ALERT = "Lũ quét thôn Đông"


def text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def mode(browser) -> str:
    return browser.execute_script("return document.documentElement.dataset.mode")


async def notice(api: httpx.AsyncClient, headers: dict, steps: list[str], **body) -> dict:
    r = await api.post("/api/v1/notices", json=notice_body(**body), headers=headers)
    assert r.status_code == 201, r.text
    for step in steps:
        r = await api.post(f"/api/v1/notices/{r.json()['id']}/{step}", json={}, headers=headers)
        assert r.status_code in (200, 201), r.text
    return r.json()


async def test_board_plays_takes_an_emergency_reports_and_keeps_playing_offline(rt, settings):
    factory = Factory(rt)
    await factory.tree()
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))
    with chromium() as browser:
        with live_server(settings) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as api:
                st = await api.post(
                    "/api/v1/broadcast/stations", json={"area_code": "38001"}, headers=leader.headers
                )
                assert st.status_code == 201, st.text
                texts = {
                    "vi": {"title": NOTICE, "body": "Tiêm chủng cho trẻ em sáng thứ Bảy tại trạm y tế xã."}
                }
                await notice(api, leader.headers, ["submit", "approve", "publish"], texts=texts)
                (board,), _ = await provision(
                    api, leader.headers, count=1, area_codes=["38001-01"], kind="eboard"
                )
                (cluster,), _ = await provision(api, leader.headers, count=1, area_codes=["38001-01"])
                page = f"{base}/boards/{board.device_id}/player"
                refused = await api.get(page)
                assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]
                as_cluster = await api.get(
                    f"{base}/boards/{cluster.device_id}/player", auth=(cluster.device_id, cluster.password)
                )
                assert as_cluster.status_code == 403  # the player is for e-boards
            await build_eboard(rt, uuid.UUID(st.json()["id"]))  # the worker's job (workers are off here)

            basic = base64.b64encode(f"{board.device_id}:{board.password}".encode()).decode()
            browser.execute_cdp_cmd("Network.enable", {})
            browser.execute_cdp_cmd(
                "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {basic}"}}
            )
            browser.get(page)
            cookie = browser.get_cookie("keng_board")
            assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            # From here on the board cookie alone signs the page's requests in.
            browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
            wait(browser, lambda d: mode(d) == "playlist" and text(d, "title") == NOTICE)
            assert browser.execute_script("return document.documentElement.dataset.verified") == "ok"
            wait(browser, lambda d: d.execute_script("return !!navigator.serviceWorker.controller"))

            async with httpx.AsyncClient(base_url=base, timeout=30) as api:
                alert = await notice(
                    api,
                    leader.headers,
                    ["emergency-publish"],
                    priority="emergency",
                    category="disaster",
                    target_areas=["38001-01"],
                    texts={"vi": {"title": ALERT, "body": "Bà con di chuyển lên đồi ngay."}},
                )
            await emergency.start(rt, uuid.UUID(alert["id"]))
            issued_ms = time.time() * 1000
            wait(browser, lambda d: mode(d) == "emergency")
            # When the page switched, by its own clock (same machine): reported, not asserted.
            switched_ms = float(browser.execute_script("return document.documentElement.dataset.since"))
            print(f"emergency on screen {switched_ms - issued_ms:.0f} ms after its manifest was issued")
            label = browser.find_element(By.ID, "label").get_attribute("textContent")
            assert text(browser, "title") == ALERT and label == "Thông báo khẩn cấp"
            # The playlist slide it interrupted is reported, sent by HTTP with the board cookie.
            wait(
                browser,
                lambda d: int(d.execute_script("return document.documentElement.dataset.proofSent || 0")),
            )
            plays = await PlayRecord.select().where(PlayRecord.device_id == board.device_id)
            assert plays and {p["result"] for p in plays} <= {"played", "preempted"}
            assert all(str(p["station_id"]) == st.json()["id"] for p in plays)

        # The server is gone: the board says so and keeps showing the emergency, even after a reload.
        wait(
            browser,
            lambda d: d.execute_script("return document.documentElement.dataset.network") == "offline",
        )
        assert mode(browser) == "emergency" and text(browser, "title") == ALERT
        browser.refresh()
        wait(browser, lambda d: text(d, "title") == ALERT)
        assert mode(browser) == "emergency"
