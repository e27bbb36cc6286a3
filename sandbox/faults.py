"""Switchable faults of the upstream simulators: what a connector must survive.

A spec is ``system:kind:rate`` items separated by commas, e.g. ``youth:500:0.2,library:429:0.1``
(systems: youth, berths, library; rate 0..1). It comes from ``SANDBOX_FAULTS`` at start-up and
can be replaced at run time through ``POST /_faults/`` (see :mod:`sandbox.views`).

Whether a request is hit is decided without global randomness: every request to a system takes
the next number of that system's counter, and a fault fires when a hash of (system, kind, number)
falls under its rate. The same sequence of requests therefore sees the same faults, and
replacing the spec (even with the same one) starts the counters again from zero.

This module imports nothing from Django: the harness parses specs with it before starting a
sandbox. The middleware that applies faults to responses lives in :mod:`sandbox.middleware`.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SYSTEMS = ("youth", "berths", "library")


class FaultKind(enum.StrEnum):
    SERVER_ERROR = "500"  # HTTP 500
    RATE_LIMITED = "429"  # HTTP 429 with Retry-After: 1
    TIMEOUT = "timeout"  # answer only after the configured delay (past a client's read timeout)
    MALFORMED = "malformed"  # HTTP 200 with a body that is not JSON
    DRIFT = "drift"  # a field changes type
    TRUNCATE = "truncate"  # a page claims more than it holds; a single record loses a field
    DUPLICATE = "duplicate"  # the same record twice in one page


# Kinds that replace the answer before the view runs, and kinds that rewrite a JSON answer.
SHORT_CIRCUIT_KINDS = frozenset(
    {FaultKind.SERVER_ERROR, FaultKind.RATE_LIMITED, FaultKind.MALFORMED}
)
BODY_KINDS = frozenset({FaultKind.DRIFT, FaultKind.TRUNCATE, FaultKind.DUPLICATE})


class FaultSpecError(ValueError):
    """A ``SANDBOX_FAULTS`` / ``/_faults/`` spec that does not parse."""


@dataclass(frozen=True)
class Fault:
    system: str
    kind: FaultKind
    rate: float

    def __str__(self) -> str:
        return f"{self.system}:{self.kind.value}:{self.rate:g}"


def parse_faults(spec: str) -> tuple[Fault, ...]:
    """``"youth:500:0.2,library:429:0.1"`` -> faults; ``""`` -> none. Raises FaultSpecError."""
    faults: list[Fault] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = [part.strip() for part in item.split(":")]
        if len(parts) != 3:
            raise FaultSpecError(f"{item!r}: expected system:kind:rate, e.g. 'youth:500:0.2'")
        system, kind, rate_text = parts
        if system not in SYSTEMS:
            raise FaultSpecError(
                f"{item!r}: unknown system {system!r} (one of {', '.join(SYSTEMS)})"
            )
        try:
            fault_kind = FaultKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise FaultSpecError(f"{item!r}: unknown kind {kind!r} (one of {kinds})") from None
        try:
            rate = float(rate_text)
        except ValueError:
            raise FaultSpecError(f"{item!r}: rate {rate_text!r} is not a number") from None
        if not 0.0 <= rate <= 1.0:  # also rejects nan
            raise FaultSpecError(f"{item!r}: rate must be between 0 and 1")
        faults.append(Fault(system=system, kind=fault_kind, rate=rate))
    return tuple(faults)


def format_faults(faults: tuple[Fault, ...]) -> str:
    return ",".join(str(fault) for fault in faults)


def _unit_interval(system: str, kind: FaultKind, number: int) -> float:
    digest = hashlib.sha256(f"{system}/{kind.value}/{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultState:
    """The active faults and the per-system request counters (one per process)."""

    def __init__(self, faults: tuple[Fault, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._counters: dict[str, Iterator[int]] = {}

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self._faults

    def replace(self, faults: tuple[Fault, ...]) -> None:
        with self._lock:
            self._faults = faults
            self._counters = {}

    def draw(self, system: str) -> Fault | None:
        """Count one request to ``system`` and say which fault (if any) hits it.

        Faults are tried in spec order; the first whose draw falls under its rate wins.
        """
        with self._lock:
            faults = [fault for fault in self._faults if fault.system == system]
            if not faults:
                return None
            number = next(self._counters.setdefault(system, itertools.count()))
        for fault in faults:
            if _unit_interval(system, fault.kind, number) < fault.rate:
                return fault
        return None


state = FaultState()


# Rewriting of JSON answers (drift, truncate, duplicate). Each function takes the decoded body
# and returns the faulty one; bodies where the fault has nothing to act on come back unchanged.

Json = Any


def _walk(value: Json) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON value, parents before children."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _is_connection(value: Json) -> bool:
    return isinstance(value, dict) and isinstance(value.get("edges"), list)


def _graphql_connections(data: Json) -> list[dict[str, Any]]:
    return [node for node in _walk(data) if _is_connection(node)]


def _drift_field(body: Json, name: str, change: Callable[[Any], Any]) -> Json:
    for node in _walk(body):
        if name in node and node[name] is not None:
            node[name] = change(node[name])
    return body


def _date_to_number(value: Any) -> Any:
    # "2027-06-10" -> 20270610: a number where a Date was promised.
    return int(str(value).replace("-", "")) if isinstance(value, str) else value


def _digits_to_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _names_to_text(value: Any) -> Any:
    return "; ".join(map(str, value)) if isinstance(value, list) else value


# A required field each system's single-record answers lose under ``truncate``.
_REQUIRED_FIELD = {"youth": "membershipNumber", "berths": "status", "library": "id"}
_DRIFT = {
    "youth": ("membershipNumber", _digits_to_int),
    "berths": ("startDate", _date_to_number),
    "library": ("names", _names_to_text),
}


def _truncate_graphql(body: Json, system: str) -> Json:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return body
    top_connections = [value for value in data.values() if _is_connection(value)]
    if top_connections:
        for connection in top_connections:
            if connection["edges"]:
                connection["edges"].pop()  # a short page ...
            connection.setdefault("pageInfo", {})["hasNextPage"] = True  # ... that says "more"
        return body
    required = _REQUIRED_FIELD[system]
    for node in _walk(data):
        node.pop(required, None)
    return body


def _duplicate_graphql(body: Json) -> Json:
    data = body.get("data") if isinstance(body, dict) else None
    for connection in _graphql_connections(data):
        if connection["edges"]:
            connection["edges"].insert(1, copy.deepcopy(connection["edges"][0]))
            break
    return body


def _truncate_sierra(body: Json) -> Json:
    if isinstance(body, dict) and isinstance(body.get("entries"), list):
        entries = body["entries"]
        claimed = len(entries) + 1  # claims more than it holds, even for an empty page
        if entries:
            entries.pop()
        body["total"] = claimed
    elif isinstance(body, dict):
        body.pop(_REQUIRED_FIELD["library"], None)
    return body


def _duplicate_sierra(body: Json) -> Json:
    if isinstance(body, dict) and isinstance(body.get("entries"), list) and body["entries"]:
        body["entries"].insert(1, copy.deepcopy(body["entries"][0]))
    return body


def rewrite_body(body: Json, *, system: str, kind: FaultKind) -> Json:
    """The faulty version of a decoded JSON answer (the argument is modified in place)."""
    graphql = system in ("youth", "berths")
    if kind == FaultKind.DRIFT:
        name, change = _DRIFT[system]
        no_patrons = not any(name in entry for entry in _walk(body))
        if system == "library" and isinstance(body, dict) and "total" in body and no_patrons:
            body["total"] = str(body["total"])  # lists without patrons: a count as text
            return body
        return _drift_field(body, name, change)
    if kind == FaultKind.TRUNCATE:
        return _truncate_graphql(body, system) if graphql else _truncate_sierra(body)
    if kind == FaultKind.DUPLICATE:
        return _duplicate_graphql(body) if graphql else _duplicate_sierra(body)
    raise ValueError(f"{kind} does not rewrite bodies")
