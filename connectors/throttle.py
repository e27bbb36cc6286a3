"""Each upstream's budget in this worker process: how many calls may be in flight at once, how
many may start per second, and a pause that every call waits out after the upstream answered
429 with `Retry-After`.

Every call to an upstream goes through `send_with_retries` (connectors.transport), which takes
a turn here first, so the budget holds however many threads a sweep runs (connectors.pool) and
whatever else the process does (a citizen's sync at login). The budget is per process: with
several worker processes, the upstream sees their sum (README, "Configuration").

The rate is a token bucket in the form of the generic cell rate algorithm: each call reserves
the next free start time, one interval (1 / calls per second) after the previous one, and may
start early by at most `burst` intervals, so at most `burst` calls start at once after a quiet
spell and N calls take at least (N - burst) intervals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from connectors import conf


@dataclass(frozen=True)
class Budget:
    max_in_flight: int
    calls_per_second: float


class UpstreamLimit:
    """One upstream's budget: `call()` waits for a free slot, then for its start time."""

    def __init__(
        self,
        budget: Budget,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self._slots = threading.BoundedSemaphore(budget.max_in_flight)
        self._interval = 1.0 / budget.calls_per_second
        # As many calls as may be in flight may start together; the rate holds on average.
        self._tolerance = (budget.max_in_flight - 1) * self._interval
        self._next_start = 0.0  # the theoretical start time of the next call
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold one of the in-flight slots for the length of one call, started no earlier than
        the rate and any pause allow."""
        # The slot first: only calls that hold one reserve start times, so a start time is
        # never kept waiting behind the in-flight limit and spent late, in a bunch.
        with self._slots:
            self._sleep_until(self._reserve())
            yield

    def pause(self, seconds: float) -> None:
        """No call starts for `seconds` (the upstream's Retry-After); later pauses extend it."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds until calls may start again after a pause (0: not paused)."""
        with self._lock:
            return max(self._paused_until - self._clock(), 0.0)

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, self._next_start - self._tolerance)
            self._next_start = max(self._next_start, self._paused_until, now) + self._interval
            return start

    def _sleep_until(self, start: float) -> None:
        while (wait := start - self._clock()) > 0:
            self._sleep(wait)
        # A pause that began while this call waited for its start holds it too.
        while (wait := self._paused_until - self._clock()) > 0:
            self._sleep(wait)


def budget_of(source: str) -> Budget | None:
    """A source's budget from its settings; None for a system that is not a source (the city's
    token endpoint, which a sweep calls about once an hour)."""
    if source not in settings.CONNECTORS:
        return None
    values = conf.resolved(source, settings.CONNECTORS)
    return Budget(
        max_in_flight=int(values[conf.MAX_IN_FLIGHT]),
        calls_per_second=float(values[conf.MAX_CALLS_PER_SECOND]),
    )


class UpstreamLimits:
    """The limits of every upstream in this process, made on first use; a changed budget (new
    settings) starts a new limit."""

    def __init__(self) -> None:
        self._limits: dict[str, UpstreamLimit] = {}
        self._lock = threading.Lock()

    def for_system(self, system: str) -> UpstreamLimit | None:
        budget = budget_of(system)
        if budget is None:
            return None
        with self._lock:
            limit = self._limits.get(system)
            if limit is None or limit.budget != budget:
                limit = self._limits[system] = UpstreamLimit(budget)
            return limit

    def reset(self) -> None:
        with self._lock:
            self._limits.clear()


limits = UpstreamLimits()
