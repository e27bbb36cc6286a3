"""The threads a sweep fetches with: one per upstream call it may have in flight.

Threads rather than asyncio: the connectors, the transport (retries, breaker, token cache,
connectors.throttle) and the ORM are synchronous, and a thread waiting for an upstream releases
the GIL; an event loop would need an async twin of all of it and `sync_to_async` around every
query. The sweep's own thread stores what the fetches bring, one citizen at a time
(connectors.services), so database writes stay on one connection.

A connector's fetch may read the database from a pool thread (its configuration, say): each
thread closes its connections when the pool shuts down.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from django.db import connections

P = ParamSpec("P")
T = TypeVar("T")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class FetchPool(Executor):
    """A fixed number of threads taking work in the order it was submitted."""

    def __init__(self, workers: int, *, name: str = "fetch") -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one thread")
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._work.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        work = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if work is not None:
                        work[0].cancel()
            for _ in self._threads:
                self._work.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Leaving with an error: the work nobody will collect is not started.
        self.shutdown(wait=True, cancel_futures=exc_type is not None)

    def _run(self) -> None:
        try:
            while (work := self._work.get()) is not None:
                future, fn, args, kwargs = work
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to whoever waits for it, as Executor does
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            connections.close_all()
