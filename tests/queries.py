"""Query counts on both databases: the data database and the key store."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.test.utils import CaptureQueriesContext


@contextmanager
def assert_num_queries(*, default: int, keys: int) -> Iterator[dict[str, CaptureQueriesContext]]:
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "keys")}
    with captured["default"], captured["keys"]:
        yield captured
    performed = {alias: len(context) for alias, context in captured.items()}
    expected = {"default": default, "keys": keys}
    sql = "\n".join(q["sql"] for context in captured.values() for q in context.captured_queries)
    assert performed == expected, f"queries {performed} != {expected}:\n{sql}"
