"""Parsed and validated GraphQL documents, and a cache of them bounded in bytes.

Clients send the same few queries over and over, and validating one costs more than executing
a typical `me`, so a document that passed validation is kept. Only those: a document that
failed is cheap to refuse again (validation is linear, see wallet/graphql/limits.py) and
caching failures would let anyone fill the cache. The cache is bounded by entries and by an
estimate of its bytes, and callers without credentials get only a small share of it, so a
stream of distinct anonymous queries cannot push out what signed-in clients use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules, validate
from graphql.validation import NoSchemaIntrospectionCustomRule, OverlappingFieldsCanBeMergedRule

from wallet.graphql.limits import (
    LimitCode,
    LimitError,
    Limits,
    document_text_errors,
    operation_limit_errors,
)

# A parsed document holds about 80 bytes per character of its source, locations and tokens
# included (tracemalloc, `python -m bench --only graphql`); the estimate leaves a margin, and
# tests/wallet/test_graphql_hardening.py checks it covers a real document.
DOCUMENT_BYTES_PER_CHARACTER = 150
# graphql-core stops parsing after this many tokens: a bounded query cannot be a huge AST.
MAX_TOKENS = 5_000


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()


def document_prepare(
    schema: GraphQLSchema, query: str, *, allow_introspection: bool, anonymous: bool
) -> Prepared:
    """Parse and validate `query` (graphql-core's rules, then the wallet's limits), from the
    cache when it was valid before."""
    limits = Limits.from_settings()
    # the schema too: a document valid against one schema is not against another
    key = (schema, query, allow_introspection, limits)
    document = document_cache.get(key)
    if document is not None:
        return Prepared(document)
    prepared = _parse_and_validate(schema, query, allow_introspection, limits)
    if prepared.document is not None and not prepared.errors:
        document_cache.put(key, prepared.document, size=len(query), anonymous=anonymous)
    return prepared


def _parse_and_validate(
    schema: GraphQLSchema, query: str, allow_introspection: bool, limits: Limits
) -> Prepared:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return Prepared(None, (_coded(error, "GRAPHQL_PARSE_FAILED"),))
    except RecursionError:
        return Prepared(None, (_too_deep(),))
    # All of graphql-core's rules but the quadratic one first, then the wallet's linear limits
    # (which bound the breadth that rule is quadratic in), then that one.
    rules: list[Any] = [r for r in specified_rules if r is not OverlappingFieldsCanBeMergedRule]
    if not allow_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    try:
        errors = validate(schema, document, rules, max_errors=20)
        if not errors:
            errors = document_text_errors(document) or operation_limit_errors(
                schema, document, limits
            )
            if errors:
                return Prepared(None, tuple(errors))
            errors = validate(schema, document, [OverlappingFieldsCanBeMergedRule], max_errors=20)
        if errors:
            return Prepared(None, tuple(_coded(e, "GRAPHQL_VALIDATION_FAILED") for e in errors))
    except RecursionError:
        # Thousands of nested fragments or selections: no real client writes such a document.
        return Prepared(None, (_too_deep(),))
    return Prepared(document)


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _too_deep() -> GraphQLError:
    return LimitError("The document is nested too deeply.", LimitCode.QUERY_TOO_DEEP)


class DocumentCache:
    """A least-recently-used cache bounded by entries and by estimated bytes, with a separate,
    smaller partition for callers without credentials."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partitions: dict[bool, OrderedDict[Any, tuple[DocumentNode, int]]] = {
            False: OrderedDict(),
            True: OrderedDict(),
        }
        self._bytes = {False: 0, True: 0}

    def get(self, key: Any) -> DocumentNode | None:
        with self._lock:
            for partition in self._partitions.values():
                entry = partition.get(key)
                if entry is not None:
                    partition.move_to_end(key)
                    return entry[0]
        return None

    def put(self, key: Any, document: DocumentNode, *, size: int, anonymous: bool) -> None:
        max_entries, max_bytes = self._bounds(anonymous)
        estimated = size * DOCUMENT_BYTES_PER_CHARACTER
        if estimated > max_bytes:
            return
        with self._lock:
            partition = self._partitions[anonymous]
            if key in partition:
                return
            partition[key] = (document, estimated)
            self._bytes[anonymous] += estimated
            while len(partition) > max_entries or self._bytes[anonymous] > max_bytes:
                _, (_, evicted) = partition.popitem(last=False)
                self._bytes[anonymous] -= evicted

    def _bounds(self, anonymous: bool) -> tuple[int, int]:
        entries = settings.GRAPHQL_DOCUMENT_CACHE_ENTRIES
        max_bytes = settings.GRAPHQL_DOCUMENT_CACHE_MB * 1024 * 1024
        if not anonymous:
            return entries, max_bytes
        share = settings.GRAPHQL_DOCUMENT_CACHE_ANONYMOUS_SHARE
        return max(int(entries * share), 0), int(max_bytes * share)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": sum(len(p) for p in self._partitions.values()),
                "anonymous_entries": len(self._partitions[True]),
                "bytes": sum(self._bytes.values()),
                "anonymous_bytes": self._bytes[True],
            }

    def clear(self) -> None:
        with self._lock:
            for partition in self._partitions.values():
                partition.clear()
            self._bytes = {False: 0, True: 0}


document_cache = DocumentCache()
