"""Every log line written while serving a request carries that request's id."""

import logging

from backend.lib.http import RequestIdFilter
from backend.lib.logs import FORMAT


async def test_request_log_line_has_the_request_id(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.handler.setFormatter(logging.Formatter(FORMAT))
    with caplog.at_level(logging.INFO, logger="keng.access"):
        response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 200
    lines = [caplog.handler.format(r) for r in caplog.records if r.name == "keng.access"]
    assert any("[abc-123] GET /health 200" in line for line in lines), lines
