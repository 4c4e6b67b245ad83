"""CAP 1.2 and Atom serialisation (standard library only; tests validate against the OASIS XSD).

CAP times are ``YYYY-MM-DDThh:mm:ss±hh:mm`` with no fractions, and UTC is written ``-00:00``, never
``Z`` (CAP 1.2 §3.3.2). The Atom index uses the same form, which is a valid RFC 3339 date-time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from backend.broadcast.cap.schemas import Alert, AtomEntry, Info

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

# Characters XML 1.0 cannot carry at all; a notice body pasted from elsewhere may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cap_time(moment: datetime) -> str:
    """``2026-03-02T01:00:00-00:00``: UTC, whole seconds, the CAP way of writing UTC."""
    if moment.tzinfo is None:
        raise ValueError("CAP times need a time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | int | None = None) -> ET.Element:
    """Children are written unqualified: they inherit the root's default namespace."""
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = clean(str(text))
    return element


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "valueName", name)
    _sub(holder, "value", value)


def _info(parent: ET.Element, info: Info) -> None:
    el = _sub(parent, "info")
    _sub(el, "language", info.language)
    for category in info.categories:
        _sub(el, "category", category)
    _sub(el, "event", info.event)
    _sub(el, "urgency", info.urgency)
    _sub(el, "severity", info.severity)
    _sub(el, "certainty", info.certainty)
    if info.effective is not None:
        _sub(el, "effective", cap_time(info.effective))
    _sub(el, "expires", cap_time(info.expires))
    _sub(el, "senderName", info.sender_name)
    _sub(el, "headline", info.headline)
    _sub(el, "description", info.description)
    for resource in info.resources:
        res = _sub(el, "resource")
        _sub(res, "resourceDesc", resource.resource_desc)
        _sub(res, "mimeType", resource.mime_type)
        if resource.size is not None:
            _sub(res, "size", resource.size)
        if resource.uri:
            _sub(res, "uri", resource.uri)
    for area in info.areas:
        area_el = _sub(el, "area")
        _sub(area_el, "areaDesc", area.area_desc)
        for geocode in area.geocodes:
            _pair(area_el, "geocode", geocode.value_name, geocode.value)


def render_alert(alert: Alert) -> str:
    """One CAP 1.2 ``<alert>`` document, elements in the schema's order."""
    root = ET.Element("alert", {"xmlns": CAP_NS})
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_time(alert.sent))
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", alert.scope)
    if alert.note:
        _sub(root, "note", alert.note)
    if alert.references:
        _sub(root, "references", alert.references)
    for info in alert.infos:
        _info(root, info)
    return _document(root)


def render_atom(
    *, feed_url: str, alert_url: str, title: str, author: str, updated: datetime, entries: list[AtomEntry]
) -> str:
    """The index aggregators poll: one entry per current CAP message, each linking its document.

    ``alert_url`` is a template with ``{identifier}``."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "vi")
    _sub(feed, "id", feed_url)
    _sub(feed, "title", title)
    _sub(feed, "updated", cap_time(updated))
    author_el = _sub(feed, "author")
    _sub(author_el, "name", author)
    self_link = _sub(feed, "link")
    self_link.attrib.update({"rel": "self", "type": ATOM_MEDIA_TYPE, "href": feed_url})
    for entry in entries:
        href = alert_url.format(identifier=entry.identifier)
        el = _sub(feed, "entry")
        _sub(el, "id", href)
        _sub(el, "title", entry.headline)
        _sub(el, "updated", cap_time(entry.sent))
        _sub(el, "published", cap_time(entry.sent))
        link = _sub(el, "link")
        link.attrib.update({"rel": "alternate", "type": CAP_MEDIA_TYPE, "href": href})
    return _document(feed)


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
