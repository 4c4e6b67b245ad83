"""Slides laid out per board size: an LED module scrolls one line; a full-HD screen pages the body."""

from __future__ import annotations

from backend.broadcast.eboard import layout

BODY = " ".join(["Đề nghị bà con mang sổ tiêm chủng khi đưa trẻ đến trạm y tế xã."] * 30)


def test_led_modules_scroll_and_screens_page_with_reading_time():
    led = layout("Tiêm chủng", BODY, 192, 64, 6)
    assert led["mode"] == "scroll" and led["pages"] == [f"Tiêm chủng: {BODY}"] and led["font_px"] == 32
    hd = layout("Tiêm chủng", BODY, 1920, 1080, 6)
    small = layout("Tiêm chủng", BODY, 800, 480, 6)
    assert hd["mode"] == small["mode"] == "pages"
    assert hd["title_px"] > small["title_px"] and hd["chars_per_line"] > 60
    assert len(small["pages"]) >= len(hd["pages"]) >= 1
    assert " ".join(" ".join(p.split()) for p in hd["pages"]) == " ".join(BODY.split())
    assert hd["seconds"] >= 6 * len(hd["pages"]) and led["seconds"] >= len(BODY.split()) / 2.5 - 1
