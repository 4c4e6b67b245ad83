"""Console logins: the session cookie's flags, CSRF on every form, logout revoking the login's
tokens, idle and absolute expiry, and errors shown as Vietnamese pages (the API keeps JSON)."""

from datetime import UTC, datetime

import httpx
import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts.tables import RefreshToken
from backend.officials.console.tables import ConsoleSession
from tests.officials.console.helpers import csrf_of, login, page_csrf, staff_with_password
from tests.officials.feedback.helpers import submit


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


async def test_login_cookie_csrf_logout(client, factory):
    await factory.tree()
    _, username = await staff_with_password(factory)
    await submit(client, text="Cống thoát nước bị tắc ở Thôn Đông")

    away = await client.get("/console/queue?q=cong")
    assert (
        away.status_code == 303
        and away.headers["location"] == "/console/login?next=%2Fconsole%2Fqueue%3Fq%3Dcong"
    )
    wrong = await login(client, username, "sai-mat-khau-roi")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    forged = await client.post(
        "/console/login", data={"csrf": "x" * 43, "username": username, "password": "p"}
    )
    assert forged.status_code == 403 and "text/html" in forged.headers["content-type"]

    done = await login(client, username, next_="/console/queue?q=cong")
    assert done.status_code == 303 and done.headers["location"] == "/console/queue?q=cong"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("keng_console=") and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie and "Secure" not in cookie
    secret = client.cookies.get("keng_console")
    assert secret and await ConsoleSession.count().where(ConsoleSession.digest == secret) == 0

    queue = await client.get("/console/queue?q=cong")
    assert queue.status_code == 200 and "Cống thoát nước bị tắc ở Thôn Đông" in queue.text
    assert (
        queue.headers["x-frame-options"] == "DENY"
        and "script-src 'self'" in queue.headers["content-security-policy"]
    )
    assert '<html lang="vi">' in queue.text and "Hàng chờ xử lý phản ánh" in queue.text
    english = await client.get("/console/queue", headers={"Accept-Language": "en"})
    assert "Feedback queue" in english.text

    no_token = await client.post("/console/logout", data={})
    assert no_token.status_code == 403 and "Biểu mẫu đã hết hiệu lực" in no_token.text
    token = csrf_of(queue.text)
    elsewhere = await client.post(
        "/console/logout", data={"csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert (await client.get("/console/queue")).status_code == 200  # refusals changed nothing

    out = await client.post("/console/logout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/console/login?out=1"
    session = await ConsoleSession.select(ConsoleSession.ended_at, ConsoleSession.refresh).first()
    assert session["ended_at"] is not None
    refresh = await RefreshToken.select(RefreshToken.revoked_at).where(RefreshToken.id == session["refresh"])
    assert refresh[0]["revoked_at"] is not None
    client.cookies.set("keng_console", secret, path="/console")  # a copied cookie is dead too
    assert (await client.get("/console/queue")).status_code == 303


async def test_idle_and_absolute_expiry(client, factory, clock):
    await factory.tree()
    _, username = await staff_with_password(factory)
    assert (await login(client, username)).status_code == 303
    clock.advance(minutes=31)
    idle = await client.get("/console/queue")
    assert idle.status_code == 303 and "expired=1" in idle.headers["location"]
    page = await client.get(idle.headers["location"])
    assert "Phiên làm việc đã hết hạn" in page.text

    assert (await login(client, username)).status_code == 303
    for _ in range(29):  # active all day: every 20 minutes for 9h40
        clock.advance(minutes=20)
        assert (await client.get("/console/queue")).status_code == 200
    clock.advance(minutes=21)  # 10 hours after login
    assert (await client.get("/console/queue")).status_code == 303


async def test_errors_are_pages_on_the_console_and_json_on_the_api(client, factory):
    await factory.tree()
    editor, username = await staff_with_password(factory, role="province_editor")
    assert (await login(client, username)).status_code == 303
    forbidden = await client.get("/console/queue")
    assert forbidden.status_code == 403 and "text/html" in forbidden.headers["content-type"]
    assert "Bạn không có quyền thực hiện thao tác này." in forbidden.text
    missing = await client.get("/console/nothing-here")
    assert missing.status_code == 404 and "Không thực hiện được" in missing.text
    bad = await client.get("/console/queue?since=hôm-qua")
    assert bad.status_code in (403, 422) and "<!DOCTYPE html>" in bad.text
    api = await client.get("/api/v1/staff/feedback", headers=editor.headers)
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"


async def test_the_cookie_is_secure_over_https(client, factory):
    await factory.tree()
    _, username = await staff_with_password(factory)
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="https://keng.example") as https:
        token = await page_csrf(https, "/console/login")
        done = await https.post(
            "/console/login", data={"csrf": token, "username": username, "password": "mat-khau-thu-nghiem"}
        )
        assert done.status_code == 303 and "Secure" in done.headers["set-cookie"]
