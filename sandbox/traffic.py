"""What the upstream simulators see of the traffic, and how late they answer.

``SANDBOX_LATENCY_MS`` (or ``POST /_traffic/``) holds every upstream answer back by that many
milliseconds, as a remote system's network and work would, while the simulator itself stays
cheap: a benchmark then shows what the wallet does against a distant upstream, not how fast the
simulator is. The sleep holds a server thread, not the CPU.

Per system, the simulators count the requests and how many were in flight at once (the most
ever): what the wallet's budget toward each upstream (connectors.throttle) must bound. A
request is in flight from the moment the server began handling it until its answer was ready.

This module imports nothing from Django, like :mod:`sandbox.faults`; the middleware that applies
it lives in :mod:`sandbox.middleware`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MAX_LATENCY_MS = 10_000


class LatencyError(ValueError):
    """A latency that is not a whole number of milliseconds from 0 to MAX_LATENCY_MS."""


def parse_latency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise LatencyError("latency must be whole milliseconds")
    try:
        latency = int(value)
    except ValueError:
        raise LatencyError("latency must be whole milliseconds") from None
    if not 0 <= latency <= MAX_LATENCY_MS:
        raise LatencyError(f"latency must be between 0 and {MAX_LATENCY_MS} ms")
    return latency


@dataclass
class SystemTraffic:
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


class TrafficState:
    """The latency in force and the counts since the last reset (one per process)."""

    def __init__(self, latency_ms: int = 0) -> None:
        self._lock = threading.Lock()
        self.latency_ms = latency_ms
        self._systems: dict[str, SystemTraffic] = {}

    @contextmanager
    def request(self, system: str) -> Iterator[None]:
        with self._lock:
            traffic = self._systems.setdefault(system, SystemTraffic())
            traffic.requests += 1
            traffic.in_flight += 1
            traffic.max_in_flight = max(traffic.max_in_flight, traffic.in_flight)
        try:
            yield
        finally:
            with self._lock:
                # A reset meanwhile carried this request over into the new counts.
                self._systems[system].in_flight -= 1

    def reset(self, *, latency_ms: int | None = None) -> None:
        """Start the counts again (requests in flight keep counting as in flight)."""
        with self._lock:
            if latency_ms is not None:
                self.latency_ms = latency_ms
            self._systems = {
                system: SystemTraffic(in_flight=t.in_flight, max_in_flight=t.in_flight)
                for system, t in self._systems.items()
                if t.in_flight
            }

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                system: {"requests": t.requests, "max_in_flight": t.max_in_flight}
                for system, t in sorted(self._systems.items())
            }


state = TrafficState()
