"""The console in a real browser: headless Chromium against the real server on a loopback port.

A citizen reports over the API; a province handler logs in, finds the report in the triage queue,
routes and accepts it, answers it from a template (the page's script fills the answer box), and the
citizen's own view of the report shows the answer; then the handler logs out."""

import uuid

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from backend.core.accounts.permissions import Role
from backend.core.accounts.tables import Account
from backend.lib.crypto import hash_password
from tests.browser import chromium, live_server, wait
from tests.factories import Factory

PASSWORD = "mat-khau-trinh-duyet"
ANSWER = "Xã đã cử tổ vệ sinh thu gom rác tại điểm này; cảm ơn ông/bà đã phản ánh."


async def test_log_in_triage_answer_and_the_citizen_sees_it(rt, settings):
    factory = Factory(rt)
    await factory.tree()
    boss = await factory.user((Role.ADMIN, "VN"))
    handler = await factory.user((Role.FEEDBACK_HANDLER, "38"), username="xuly.tinh")
    await Account.update(
        {Account.password_hash: hash_password(PASSWORD), Account.full_name: "Đỗ Thị Hà"}
    ).where(Account.id == handler.id)
    with live_server(settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as api:
            config = "/api/v1/staff/feedback-config"
            unit = await api.post(
                f"{config}/units",
                json={"name": "UBND xã Hoằng Hóa", "area_code": "38001"},
                headers=boss.headers,
            )
            assert unit.status_code == 201, unit.text
            template = await api.post(
                f"{config}/templates", json={"title": "Đã thu gom", "text": ANSWER}, headers=boss.headers
            )
            assert template.status_code == 201, template.text
            phone = await api.post(
                "/api/v1/citizens/register", json={"device_id": f"phone-{uuid.uuid4().hex[:12]}"}
            )
            citizen = {"Authorization": f"Bearer {phone.json()['access_token']}"}
            sent = await api.post(
                "/api/v1/citizen/feedback",
                json={
                    "client_id": f"c-{uuid.uuid4().hex}",
                    "category": "environment",
                    "text": "Bãi rác tự phát cạnh trường tiểu học Hoằng Hóa, bốc mùi nhiều ngày.",
                    "area_code": "38001-01",
                },
                headers=citizen,
            )
            assert sent.status_code == 201, sent.text
            report = sent.json()

            with chromium() as browser:
                browser.get(f"{base}/console/queue")
                wait(browser, lambda d: "/console/login" in d.current_url)
                assert browser.find_element(By.TAG_NAME, "h1").text == "Đăng nhập cán bộ"
                browser.find_element(By.ID, "username").send_keys("xuly.tinh")
                browser.find_element(By.ID, "password").send_keys(PASSWORD)
                browser.find_element(By.ID, "login").click()
                wait(browser, lambda d: d.current_url.endswith("/console/queue"))
                cookie = browser.get_cookie("keng_console")
                assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

                browser.find_element(By.LINK_TEXT, "Chờ phân loại").click()
                wait(browser, lambda d: "triage=true" in d.current_url)
                link = browser.find_element(By.LINK_TEXT, report["token"])
                assert "Bãi rác tự phát cạnh trường tiểu học Hoằng Hóa" in browser.page_source
                link.click()
                wait(browser, lambda d: f"/console/feedback/{report['id']}" in d.current_url)
                assert browser.find_element(By.ID, "status").text == "Mới tiếp nhận"

                browser.find_element(By.CSS_SELECTOR, "#action-route summary").click()
                Select(
                    browser.find_element(By.CSS_SELECTOR, "#action-route select[name=unit]")
                ).select_by_visible_text("UBND xã Hoằng Hóa (38001)")
                browser.find_element(By.ID, "do-route").click()
                wait(browser, lambda d: "done=route" in d.current_url)
                assert browser.find_element(By.ID, "unit").text == "UBND xã Hoằng Hóa"

                browser.find_element(By.ID, "do-accept").click()
                wait(browser, lambda d: d.find_element(By.ID, "status").text == "Đã tiếp nhận")

                browser.find_element(By.CSS_SELECTOR, "#action-answer summary").click()
                Select(browser.find_element(By.CSS_SELECTOR, "select.template-pick")).select_by_visible_text(
                    "Đã thu gom"
                )
                assert browser.find_element(By.ID, "answer-text").get_attribute("value") == ANSWER
                browser.find_element(By.ID, "do-answer").click()
                wait(browser, lambda d: d.find_element(By.ID, "status").text == "Đã trả lời")
                assert ANSWER in browser.find_element(By.ID, "history").text

                mine = await api.get(f"/api/v1/citizen/feedback/{report['id']}", headers=citizen)
                assert mine.status_code == 200
                assert mine.json()["status"] == "answered"
                assert ANSWER in mine.text

                browser.get(f"{base}/console/queue?triage=true&group=open")
                assert browser.find_element(By.ID, "empty").text == "Không có phản ánh nào khớp bộ lọc."
                browser.find_element(By.ID, "logout").click()
                wait(browser, lambda d: "out=1" in d.current_url)
                assert "Bạn đã đăng xuất." in browser.page_source
                browser.get(f"{base}/console/queue")
                wait(browser, lambda d: "/console/login" in d.current_url)
