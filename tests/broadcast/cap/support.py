"""Helpers for the CAP tests: the OASIS schema, notices driven over HTTP, and the outbox worker."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from backend.broadcast.cap import cap_channel_handler
from backend.broadcast.cap.tables import CapMessage
from backend.core.outbox.services import OutboxWorker
from backend.runtime import Runtime
from tests.factories import User, notice_body

XSD = Path(__file__).resolve().parents[2] / "data" / "cap" / "CAP-v1.2.xsd"
SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
API = "/api/v1/notices"
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
TIME_ELEMENTS = ("sent", "effective", "onset", "expires")


def parse_valid(xml: str | bytes) -> etree._Element:
    """Parse a CAP document and validate it against the official schema (raises if invalid)."""
    data = xml.encode() if isinstance(xml, str) else xml
    root = etree.fromstring(data)
    SCHEMA.assertValid(root)
    return root


def text(root: etree._Element, path: str) -> str | None:
    return root.findtext(path, namespaces=NS)


def texts(root: etree._Element, path: str) -> list[str]:
    return [el.text for el in root.findall(path, namespaces=NS)]


def cap_times(root: etree._Element) -> list[str]:
    return [el.text for el in root.iter() if etree.QName(el).localname in TIME_ELEMENTS]


async def drain(rt: Runtime) -> int:
    """Run the outbox worker with only the CAP channel, as the server's worker would."""
    only_cap = dataclasses.replace(rt, channel_handlers={"cap": cap_channel_handler})
    return await OutboxWorker(only_cap).drain()


async def messages() -> list[dict[str, Any]]:
    return await CapMessage.select().order_by(CapMessage.id)


async def create(client: httpx.AsyncClient, author: User, **overrides: Any) -> dict[str, Any]:
    response = await client.post(API, json=notice_body(**overrides), headers=author.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def act(
    client: httpx.AsyncClient, user: User, notice_id: str, action: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{API}/{notice_id}/{action}", json=body, headers=user.headers)
    assert response.status_code == 200, (action, response.text)
    return response.json()


async def publish(client: httpx.AsyncClient, author: User, leader: User, **overrides: Any) -> dict[str, Any]:
    notice = await create(client, author, **overrides)
    for action, who in (("submit", author), ("approve", leader), ("publish", leader)):
        await act(client, who, notice["id"], action)
    return notice


async def new_version(
    client: httpx.AsyncClient, author: User, leader: User, notice_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{API}/{notice_id}/versions", json=body, headers=author.headers)
    assert response.status_code == 201, response.text
    version = response.json()
    for action, who in (("submit", author), ("approve", leader), ("publish", leader)):
        await act(client, who, version["id"], action)
    return version


async def fetch_alert(client: httpx.AsyncClient, identifier: str) -> etree._Element:
    response = await client.get(f"/cap/alerts/{identifier}.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    return parse_valid(response.content)
