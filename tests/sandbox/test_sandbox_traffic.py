"""The simulators' latency (`SANDBOX_LATENCY_MS`, switchable) and what each upstream counts of
its traffic: requests, and the most in flight at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from sandbox.harness import Sandbox, SandboxStartError, start_sandbox
from sandbox.traffic import LatencyError, TrafficState, parse_latency


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(latency_ms=30) as running:
        yield running


def _youth_call(sandbox: Sandbox, token: str) -> httpx.Response:
    return httpx.post(
        sandbox.youth_graphql_url,
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_the_latency_set_at_start_and_the_counts_per_system(sandbox: Sandbox) -> None:
    token = sandbox.service_token(scope="youth")["access_token"]  # the provider: not counted
    sandbox.reset_traffic()
    state = httpx.get(sandbox.traffic_url, timeout=10).json()
    assert (state["latency_ms"], state["systems"]) == (30, {})

    for _ in range(3):
        assert _youth_call(sandbox, token).status_code == 200
    sandbox.library_token()

    assert sandbox.traffic() == {
        "library": {"requests": 1, "max_in_flight": 1},
        "youth": {"requests": 3, "max_in_flight": 1},
    }


def test_requests_at_once_are_counted_in_flight_together(sandbox: Sandbox) -> None:
    token = sandbox.service_token(scope="youth")["access_token"]
    sandbox.reset_traffic(latency_ms=300)  # long enough that four sent together overlap
    try:
        start = threading.Barrier(4)
        answers: list[int] = []

        def call() -> None:
            start.wait(timeout=10)
            answers.append(_youth_call(sandbox, token).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        seen = sandbox.traffic()["youth"]
    finally:
        sandbox.reset_traffic(latency_ms=30)
    assert answers == [200] * 4
    assert seen["requests"] == 4 and 1 < seen["max_in_flight"] <= 4


def test_a_bad_latency_is_refused_at_the_switch_and_at_start(sandbox: Sandbox) -> None:
    for bad in (-1, 10_001, "fast", 1.5, True):
        response = httpx.post(sandbox.traffic_url, json={"latency_ms": bad}, timeout=10)
        assert response.status_code == 400, bad
    assert httpx.get(sandbox.traffic_url, timeout=10).json()["latency_ms"] == 30
    with pytest.raises(LatencyError):
        parse_latency("-5")
    with pytest.raises(SandboxStartError, match="SANDBOX_LATENCY_MS"):
        start_sandbox(extra_env={"SANDBOX_LATENCY_MS": "slow"}, startup_timeout=20).stop()


def test_a_reset_carries_requests_still_in_flight_over():
    state = TrafficState()
    with state.request("berths"):
        state.reset()
        with state.request("berths"):
            assert state.snapshot() == {"berths": {"requests": 1, "max_in_flight": 2}}
    assert state.snapshot() == {"berths": {"requests": 1, "max_in_flight": 2}}
    state.reset()
    assert state.snapshot() == {}
