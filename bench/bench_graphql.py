"""GraphQL document preparation: is validation linear, and is the parsed-document cache bounded?

- validation: the wallet's whole preparation (parse, graphql-core's rules, the wallet's limits)
  of a fragment bomb (each fragment spreads the next twice) at 10, 20 and 40 levels, as a
  ratio against the 10-level one, side by side in alternating rounds. A linear check grows
  with the document (4x the text from 10 to 40 levels); one that expands fragments would
  grow 2**30-fold. Also a plain 20 KB document against graphql-core's parse alone.
- memory: 100 (`documents`) distinct valid 20 KB documents prepared through the wallet's
  bounded cache, against keeping every parsed document (what an unbounded cache does), measured
  with tracemalloc in the same process.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from typing import Any

from bench.setup import compare_best


def fragment_bomb(levels: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return " ".join(["{ ...F0 }", *fragments, f"fragment F{levels} on Query {{ __typename }}"])


def distinct_document(n: int, size: int = 19_800) -> str:
    """A valid document of named operations, each well within every limit."""
    operations: list[str] = []
    while sum(len(o) + 1 for o in operations) < size:
        operations.append(
            f"query Q{n}x{len(operations)} {{ me {{ profile {{ firstName lastName email "
            "sources { fieldId updatedAt } } youthMembership { status expiration } } }"
        )
    return " ".join(operations)


def run(*, rounds: int, calls: int, documents: int = 100) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")
    django.setup()
    from graphql import parse

    from wallet.graphql.documents import document_cache, document_prepare
    from wallet.schema import schema

    graphql_schema = schema.graphql_schema

    def prepare(query: str) -> Any:
        document_cache.clear()  # time the work, not the cache
        return document_prepare(graphql_schema, query, allow_introspection=False, anonymous=True)

    bombs = {levels: fragment_bomb(levels) for levels in (10, 20, 40)}
    for levels, query in bombs.items():
        assert prepare(query).errors, f"a {levels}-level bomb must be refused"
    growth = {
        levels: compare_best(
            f"bomb-{levels}",
            lambda q=query: prepare(q),
            lambda q=bombs[10]: prepare(q),
            rounds=rounds,
            calls=max(calls // 10, 5),
        )
        for levels, query in bombs.items()
        if levels != 10
    }
    plain = distinct_document(0)
    assert not prepare(plain).errors
    plain_vs_parse = compare_best(
        "plain-20kb", lambda: prepare(plain), lambda: parse(plain), rounds=rounds, calls=5
    )

    distinct = [distinct_document(n) for n in range(1, documents + 1)]
    document_cache.clear()
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for query in distinct:
        document_prepare(graphql_schema, query, allow_introspection=False, anonymous=False)
    gc.collect()
    bounded = tracemalloc.get_traced_memory()[0] - start
    document_cache.clear()
    gc.collect()
    start = tracemalloc.get_traced_memory()[0]
    kept = [parse(query) for query in distinct]
    gc.collect()
    unbounded = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    del kept

    return {
        "benchmark": "GraphQL document preparation: validation growth and cache memory",
        "bomb_20_vs_10_levels_time_ratio": round(1 / growth[20].ratio, 2),
        "bomb_40_vs_10_levels_time_ratio": round(1 / growth[40].ratio, 2),
        "bomb_text_40_vs_10_ratio": round(len(bombs[40]) / len(bombs[10]), 2),
        "plain_20kb_prepare_vs_parse_time_ratio": round(1 / plain_vs_parse.ratio, 2),
        "plain_20kb_prepare_ms": round(1000 / plain_vs_parse.subject_per_second, 1),
        "distinct_documents": documents,
        "cache_distinct_20kb_mib": round(bounded / 2**20, 1),
        "keeping_every_document_mib": round(unbounded / 2**20, 1),
        "cache_vs_keeping_every_document": round(bounded / unbounded, 3),
        "rounds": rounds,
    }
