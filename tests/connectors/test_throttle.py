"""Each upstream's budget (connectors.throttle): calls in flight, calls per second, and the pause
after a 429's Retry-After; the breaker's half-open trial. A fake clock, never a real wait."""

from __future__ import annotations

import threading

import httpx
import pytest

from connectors import transport
from connectors.errors import UpstreamCircuitOpen, UpstreamRateLimited, UpstreamUnavailable
from connectors.throttle import Budget, UpstreamLimit, budget_of, limits
from tests.connector_settings import connector_settings


@pytest.fixture(autouse=True)
def fresh_limits_and_breaker():
    limits.reset()
    transport.breaker.reset()
    yield
    limits.reset()
    transport.breaker.reset()


class FakeClock:
    """Time that passes only when somebody sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def _starts(limit: UpstreamLimit, clock: FakeClock, calls: int) -> list[float]:
    started = []
    for _ in range(calls):
        with limit.call():
            started.append(clock())
    return started


def test_calls_start_at_the_rate_after_a_burst_as_large_as_the_calls_in_flight():
    clock = FakeClock()
    limit = UpstreamLimit(
        Budget(max_in_flight=4, calls_per_second=10), clock=clock, sleep=clock.sleep
    )

    started = _starts(limit, clock, 24)

    offsets = [round(t - 1000.0, 6) for t in started]
    assert offsets[:4] == [0.0] * 4  # a burst of as many as may be in flight
    assert offsets[4:] == [round(0.1 * n, 6) for n in range(1, 21)]  # then one every 0.1 s
    # however they came: N calls take at least (N - burst) intervals
    assert all(t - 1000.0 >= (n + 1 - 4) * 0.1 - 1e-9 for n, t in enumerate(started))


def test_a_quiet_spell_does_not_save_up_more_than_one_burst():
    clock = FakeClock()
    limit = UpstreamLimit(
        Budget(max_in_flight=2, calls_per_second=5), clock=clock, sleep=clock.sleep
    )
    _starts(limit, clock, 3)
    clock.sleep(60)  # a minute without calls

    started = _starts(limit, clock, 5)

    assert [round(t - started[0], 6) for t in started] == [0.0, 0.0, 0.2, 0.4, 0.6]


def test_a_pause_holds_back_every_call_until_it_ends():
    clock = FakeClock()
    limit = UpstreamLimit(
        Budget(max_in_flight=4, calls_per_second=100), clock=clock, sleep=clock.sleep
    )
    limit.pause(5)
    limit.pause(2)  # a shorter pause does not cut the longer one short
    assert limit.paused_for() == 5

    started = _starts(limit, clock, 3)

    assert all(t >= 1005.0 for t in started)
    assert limit.paused_for() == 0


def test_no_more_calls_are_in_flight_than_the_budget_allows():
    limit = UpstreamLimit(Budget(max_in_flight=3, calls_per_second=100_000))
    changed = threading.Condition()
    inside = most = 0
    release = threading.Event()

    def call() -> None:
        nonlocal inside, most
        with limit.call():
            with changed:
                inside += 1
                most = max(most, inside)
                changed.notify_all()
            release.wait(timeout=10)
            with changed:
                inside -= 1

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    with changed:  # three got in and hold their slots; the other five wait for one
        assert changed.wait_for(lambda: inside == 3, timeout=10)
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert most == 3 and inside == 0


def test_the_budget_comes_from_the_sources_settings_and_a_change_takes_effect(settings):
    connector_settings(settings, "youth", MAX_IN_FLIGHT=3, MAX_CALLS_PER_SECOND=7.5)
    assert budget_of("youth") == Budget(max_in_flight=3, calls_per_second=7.5)
    first = limits.for_system("youth")
    assert first is not None and first is limits.for_system("youth")

    connector_settings(settings, "youth", MAX_IN_FLIGHT=5)
    second = limits.for_system("youth")
    assert second is not None and second is not first and second.budget.max_in_flight == 5
    # the defaults, and no budget for what is not a source (the city's token endpoint)
    assert budget_of("berths") == Budget(max_in_flight=8, calls_per_second=25.0)
    assert budget_of("youth token endpoint") is None


def test_a_429s_retry_after_pauses_every_call_to_that_upstream(settings):
    connector_settings(settings, "berths", MAX_CALLS_PER_SECOND=1000.0)
    limits.reset()
    slept: list[float] = []

    with pytest.raises(UpstreamRateLimited):
        transport.send_with_retries(
            lambda: httpx.Response(429, headers={"Retry-After": "7"}),
            system="berths",
            max_attempts=1,
            sleep=slept.append,
        )

    limit = limits.for_system("berths")
    assert limit is not None and 6 < limit.paused_for() <= 7
    assert limits.for_system("youth").paused_for() == 0  # another upstream goes on


@pytest.fixture
def breaker_clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(transport.time, "monotonic", clock)
    breaker = transport.CircuitBreaker()
    return breaker, clock


def test_a_half_open_breaker_lets_one_trial_call_through_at_a_time(settings, breaker_clock):
    settings.CONNECTOR_BREAKER_THRESHOLD = 2
    settings.CONNECTOR_BREAKER_COOLDOWN_SECONDS = 30
    breaker, clock = breaker_clock
    for _ in range(2):
        breaker.check("youth")
        breaker.record("youth", ok=False)
    with pytest.raises(UpstreamCircuitOpen):
        breaker.check("youth")

    clock.sleep(31)
    breaker.check("youth")  # the trial
    with pytest.raises(UpstreamCircuitOpen):
        breaker.check("youth")  # everyone else still waits
    breaker.record("youth", ok=False)  # the trial failed: open again, a whole cooldown
    clock.sleep(29)
    with pytest.raises(UpstreamCircuitOpen):
        breaker.check("youth")

    clock.sleep(2)
    breaker.check("youth")  # the next trial
    breaker.record("youth", ok=True)  # it worked: closed
    breaker.check("youth")
    breaker.check("youth")


def test_a_trial_that_never_reports_lets_another_through_a_cooldown_later(settings, breaker_clock):
    settings.CONNECTOR_BREAKER_THRESHOLD = 1
    settings.CONNECTOR_BREAKER_COOLDOWN_SECONDS = 10
    breaker, clock = breaker_clock
    breaker.record("berths", ok=False)
    clock.sleep(11)
    breaker.check("berths")  # a trial whose thread died before it could report
    with pytest.raises(UpstreamCircuitOpen):
        breaker.check("berths")
    clock.sleep(11)
    breaker.check("berths")


def test_a_call_that_waited_for_its_turn_is_stopped_by_a_breaker_opened_meanwhile(settings):
    settings.CONNECTOR_BREAKER_THRESHOLD = 1
    sent = []
    transport.breaker.record("library", ok=False)  # opened while this call waited
    with pytest.raises(UpstreamCircuitOpen):
        transport.send_with_retries(
            lambda: sent.append(1) or httpx.Response(200), system="library", max_attempts=1
        )
    assert sent == []
    transport.breaker.reset()
    with pytest.raises(UpstreamUnavailable):
        transport.send_with_retries(lambda: httpx.Response(503), system="library", max_attempts=1)
