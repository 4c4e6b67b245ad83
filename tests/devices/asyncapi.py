"""The committed AsyncAPI document (``openapi/asyncapi.yaml``) as test material: its channels and a
JSON Schema validator for any of its component schemas."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PATH = Path(__file__).resolve().parents[2] / "openapi" / "asyncapi.yaml"


@functools.cache
def document() -> dict[str, Any]:
    return yaml.safe_load(PATH.read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/a/b``) to the node it names."""
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A validator for ``schema`` whose local references resolve inside the document."""
    root = {**schema, "components": document()["components"]}
    return jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker())


def schema_validator(name: str) -> jsonschema.Draft7Validator:
    return validator({"$ref": f"#/components/schemas/{name}"})


def address_pattern(address: str) -> re.Pattern[str]:
    """A channel address with its ``{parameters}`` as one topic level each."""
    parts = re.split(r"(\{[^}]+\})", address)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")
