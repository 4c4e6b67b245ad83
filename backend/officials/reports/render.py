"""The yearly report as CSV (one row per figure) and as a printable HTML page with inline SVG bar
charts: no script, no external style sheet, Vietnamese labels, times in Vietnam time."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from backend.officials.feedback.deadlines import VN_TZ
from backend.officials.reports.schemas import CountBy, FeedbackCounts, YearlyReportOut

CSV_HEADER = ["section", "figure", "key", "value"]

LABELS = {
    "received": "Tiếp nhận",
    "answered": "Đã trả lời",
    "answered_on_time": "Trả lời đúng hạn",
    "answered_late": "Trả lời quá hạn",
    "open_now": "Đang xử lý",
    "overdue_now": "Đang quá hạn",
    "median_hours_to_answer": "Thời gian trả lời (trung vị, giờ)",
    "rating_count": "Số lượt đánh giá",
    "rating_mean": "Mức hài lòng trung bình (1–5)",
}


def _value(value: Any) -> str:
    return "" if value is None else str(value)


def _counts(figures: FeedbackCounts) -> list[tuple[str, Any]]:
    return [(name, getattr(figures, name)) for name in FeedbackCounts.__struct_fields__]


def to_csv(report: YearlyReportOut) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    rows: list[tuple[str, str, str, Any]] = [
        ("report", "year", "", report.year),
        ("report", "area", "", report.area_code),
        ("report", "window_start", "", report.start.astimezone(VN_TZ).isoformat()),
        ("report", "window_end", "", report.last_moment.astimezone(VN_TZ).isoformat()),
    ]
    fb = report.feedback
    rows += [("feedback", name, "", value) for name, value in _counts(fb)]
    for cat in fb.by_category:
        rows += [("feedback_by_category", name, cat.category, value) for name, value in _counts(cat)]
    for month in fb.monthly:
        rows += [("feedback_by_month", name, month.month, value) for name, value in _counts(month)]
    n = report.notices
    rows.append(("notices", "published", "", n.published))
    rows += [("notices_by_category", "published", c.key, c.count) for c in n.by_category]
    rows += [("notices_by_priority", "published", c.key, c.count) for c in n.by_priority]
    rows += [("notices_by_channel", "published", c.key, c.count) for c in n.by_channel]
    rows += [("push", name, "", getattr(n.push, name)) for name in ("total", "sent", "failed", "other")]
    d = report.devices
    rows += [
        ("devices", name, "", getattr(d, name))
        for name in ("available", "clusters", "eboards", "total", "online", "online_share", "note")
    ]
    for section, figure, key, value in rows:
        writer.writerow([section, figure, key, _value(value)])
    return out.getvalue()


def bar_chart(title: str, bars: list[tuple[str, float]], width: int = 640) -> str:
    """A horizontal bar chart as inline SVG; each bar carries its value as text."""
    row, label_w, pad = 22, 170, 60
    height = row * max(len(bars), 1) + 30
    top = max((v for _, v in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not bars:
        parts.append('<text x="0" y="40" font-size="12">Không có số liệu</text>')
    for i, (label, value) in enumerate(bars):
        y = 24 + i * row
        w = (width - label_w - pad) * value / top
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="#2b6cb0"/>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="12">{_value(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(_value(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _count_rows(items: list[CountBy]) -> list[list[Any]]:
    return [[c.key, c.count] for c in items]


def _vn(moment: Any) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M:%S %d/%m/%Y")


def title_of(report: YearlyReportOut) -> str:
    return f"Báo cáo thông tin cơ sở năm {report.year} — {report.area_name}"


def body_html(report: YearlyReportOut) -> str:
    """The report's sections (headings, tables, charts): the printable page's body, also shown
    inside the staff console."""
    fb, n, d = report.feedback, report.notices, report.devices
    title = title_of(report)
    cat_head = ["Lĩnh vực", *(LABELS[k] for k in FeedbackCounts.__struct_fields__)]
    month_head = ["Tháng", *(LABELS[k] for k in FeedbackCounts.__struct_fields__)]
    devices_note = "" if d.available else f'<p class="note">{escape(d.note)}</p>'
    share = "" if d.online_share is None else f"{d.online_share:.1%}"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>Kỳ số liệu: từ {_vn(report.start)} đến {_vn(report.last_moment)} (giờ Việt Nam). "
        f"Lập lúc {_vn(report.generated_at)}.</p>",
        "<h2>1. Phản ánh, kiến nghị của người dân</h2>",
        _table(["Chỉ tiêu", "Giá trị"], [[LABELS[k], v] for k, v in _counts(fb)]),
        bar_chart("Phản ánh tiếp nhận theo tháng", [(m.month, m.received) for m in fb.monthly]),
        bar_chart("Phản ánh theo lĩnh vực", [(c.category, c.received) for c in fb.by_category]),
        _table(cat_head, [[c.category, *(v for _, v in _counts(c))] for c in fb.by_category]),
        _table(month_head, [[m.month, *(v for _, v in _counts(m))] for m in fb.monthly]),
        "<h2>2. Tin, bài đã phát hành</h2>",
        f"<p>Tổng số tin đã phát hành: <b>{n.published}</b></p>",
        bar_chart("Tin theo lĩnh vực", [(c.key, c.count) for c in n.by_category]),
        _table(["Lĩnh vực", "Số tin"], _count_rows(n.by_category)),
        _table(["Mức độ", "Số tin"], _count_rows(n.by_priority)),
        bar_chart("Tin theo kênh phát", [(c.key, c.count) for c in n.by_channel]),
        _table(["Kênh", "Số lượt phát"], _count_rows(n.by_channel)),
        _table(
            ["Thông báo đẩy", "Số lượt"],
            [
                ["Tổng", n.push.total],
                ["Đã gửi", n.push.sent],
                ["Thất bại", n.push.failed],
                ["Khác", n.push.other],
            ],
        ),
        "<h2>3. Thiết bị</h2>",
        devices_note,
        _table(
            ["Chỉ tiêu", "Giá trị"],
            [
                ["Cụm loa", d.clusters],
                ["Bảng tin điện tử", d.eboards],
                ["Tổng số thiết bị", d.total],
                ["Đang trực tuyến", d.online],
                ["Tỷ lệ trực tuyến", share],
            ],
        ),
    ]
    return "".join(sections)


def to_html(report: YearlyReportOut) -> str:
    title = title_of(report)
    style = (
        "body{font-family:serif;margin:2cm;color:#000}table{border-collapse:collapse;margin:8px 0 16px}"
        "th,td{border:1px solid #444;padding:3px 6px;font-size:12px;text-align:left}"
        "h1{font-size:20px}h2{font-size:16px;margin-top:24px}.note{font-style:italic}"
        "svg{display:block;margin:8px 0}@media print{body{margin:1cm}h2{page-break-after:avoid}}"
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{style}</style></head><body>"
        + body_html(report)
        + "</body></html>"
    )
