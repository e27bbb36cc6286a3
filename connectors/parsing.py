"""Validating upstream values against the contract; errors name the field, never the value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import InvalidRecord


def text(node: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = node.get(key)
    if value is None or value == "":
        if required:
            raise InvalidRecord(f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} is not a string")
    return value


def iso_date(node: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = text(node, key, required=required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise InvalidRecord(f"{key} is not a date") from None


def iso_datetime(node: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = text(node, key, required=required)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise InvalidRecord(f"{key} is not a date and time") from None


def decimal(node: dict[str, Any], key: str) -> str | None:
    """Decimals travel as strings (or JSON numbers); kept as normalized strings."""
    value = node.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRecord(f"{key} is not a number")
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        raise InvalidRecord(f"{key} is not a number") from None


def boolean(node: dict[str, Any], key: str) -> bool | None:
    value = node.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidRecord(f"{key} is not a boolean")
    return value


def obj(node: dict[str, Any], key: str) -> dict[str, Any]:
    value = node.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRecord(f"{key} is not an object")
    return value


def edges(node: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The nodes of a Relay connection field. A node id that comes twice is an upstream fault:
    the whole list is refused rather than stored with a copy in it."""
    connection = obj(node, key)
    result = []
    seen: set[str] = set()
    for edge in connection.get("edges") or []:
        inner = edge.get("node") if isinstance(edge, dict) else None
        if not isinstance(inner, dict):
            raise InvalidRecord(f"{key} holds a malformed entry")
        node_id = inner.get("id")
        if isinstance(node_id, str):
            if node_id in seen:
                raise InvalidRecord(f"{key} repeats an entry")
            seen.add(node_id)
        result.append(inner)
    return result
