"""Query parameters the way Sierra spells them: ``fields``, ``limit``/``offset`` and ranges like
``[2025-05-01T00:00:00Z,]``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from django.http import QueryDict

from sandbox.library.errors import invalid_parameter

MAX_LIMIT = 2000
DEFAULT_LIMIT = 50

T = TypeVar("T", date, datetime)


@dataclass(frozen=True)
class Range(Generic[T]):
    start: T | None
    end: T | None  # both ends inclusive


def fields_param(
    query: QueryDict, *, available: Collection[str], default: Collection[str]
) -> list[str]:
    """The fields to show, in a stable order; ``default`` in the list stands for the defaults.

    ``id`` is always shown: it is what every client keys on.
    """
    raw = query.get("fields")
    wanted: list[str] = []
    for name in raw.split(",") if raw else ["default"]:
        name = name.strip()
        if not name:
            continue
        if name == "default":
            wanted.extend(default)
        elif name in available:
            wanted.append(name)
        else:
            raise invalid_parameter(f"Invalid field name: {name}")
    return ["id", *dict.fromkeys(field for field in wanted if field != "id")]


def page_params(query: QueryDict) -> tuple[int, int]:
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise invalid_parameter("limit and offset must be integers") from None
    if limit < 1 or offset < 0:
        raise invalid_parameter("limit must be positive and offset zero or more")
    if limit > MAX_LIMIT:
        raise invalid_parameter(f"limit must be {MAX_LIMIT} or less")
    return limit, offset


def _datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _date(text: str) -> date:
    return date.fromisoformat(text[:10])


def _range(text: str, name: str) -> tuple[str, str]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        start, comma, end = text[1:-1].partition(",")
        if not comma:
            raise invalid_parameter(f"{name} range must be [from,to], [from,] or [,to]")
        return start.strip(), end.strip()
    return text, text  # a single value: exactly that


@dataclass(frozen=True)
class IdSelection:
    """``id=1,2,3`` (a list) or ``id=[1000,2000]`` (a range, either end open)."""

    ids: frozenset[int] = frozenset()
    range: tuple[int | None, int | None] | None = None


MAX_IDS = MAX_LIMIT


def id_param(query: QueryDict) -> IdSelection | None:
    raw = query.get("id")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        if raw.startswith("["):
            start, end = _range(raw, "id")
            return IdSelection(range=(int(start) if start else None, int(end) if end else None))
        ids = frozenset(int(part) for part in raw.split(","))
    except ValueError:
        raise invalid_parameter("id must be record ids, comma separated, or a range") from None
    if len(ids) > MAX_IDS:
        raise invalid_parameter(f"at most {MAX_IDS} ids")
    return IdSelection(ids=ids)


def datetime_range(query: QueryDict, name: str) -> Range[datetime] | None:
    raw = query.get(name)
    if raw is None:
        return None
    start, end = _range(raw, name)
    try:
        return Range(_datetime(start) if start else None, _datetime(end) if end else None)
    except ValueError:
        raise invalid_parameter(f"{name} must be ISO 8601 (yyyy-MM-ddTHH:mm:ssZ)") from None


def date_range(query: QueryDict, name: str) -> Range[date] | None:
    raw = query.get(name)
    if raw is None:
        return None
    start, end = _range(raw, name)
    try:
        return Range(_date(start) if start else None, _date(end) if end else None)
    except ValueError:
        raise invalid_parameter(f"{name} must be ISO 8601 (yyyy-MM-dd)") from None
