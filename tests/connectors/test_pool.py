"""The threads a sweep fetches with (connectors.pool)."""

from __future__ import annotations

import threading

import pytest

from connectors.pool import FetchPool


def test_work_runs_on_the_pools_threads_and_its_outcome_comes_back():
    with FetchPool(3, name="t") as pool:
        names = [pool.submit(lambda: threading.current_thread().name) for _ in range(6)]
        failed = pool.submit(int, "not a number")
    assert {f.result() for f in names} <= {"t-0", "t-1", "t-2"}
    with pytest.raises(ValueError):
        failed.result()
    with pytest.raises(RuntimeError):
        pool.submit(int, "1")  # shut down


def test_leaving_with_an_error_cancels_the_work_not_started():
    started, release = threading.Event(), threading.Event()
    left = [5]

    def hold() -> bool:
        started.set()
        return release.wait(10)

    def one_done(_future: object) -> None:
        left[0] -= 1
        if not left[0]:
            release.set()  # the last of the waiting work is done: cancelled, or run

    with pytest.raises(KeyError), FetchPool(1) as pool:
        running = pool.submit(hold)  # holds the pool's one thread
        assert started.wait(10)
        waiting = [pool.submit(int, "1") for _ in range(5)]
        for future in waiting:
            future.add_done_callback(one_done)
        raise KeyError("the sweep's own thread failed")
    assert running.result() is True  # released by the cancellations, not by its timeout
    assert all(future.cancelled() for future in waiting)


def test_a_pool_needs_a_thread():
    with pytest.raises(ValueError):
        FetchPool(0)
