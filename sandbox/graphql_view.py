"""The simulated GraphQL services' view: graphene-django's, with each distinct query parsed and
validated once.

A sweep sends the same query text thousands of times with different variables; parsing and
validating it every time was most of a simulator's CPU per request (about 2 of 3.8 ms for a
youth profile, 3.5 of 5.3 for a berth profile). The answers are the same as graphene-django's:
a query that does not parse or validate is still refused with its errors (HTTP 400).
"""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, HttpResponseBadRequest
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    execute,
    parse,
    validate,
)

MAX_QUERY_LENGTH = 20_000  # longer documents are prepared every time, never kept


@functools.lru_cache(maxsize=64)
def _prepared(schema: GraphQLSchema, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    return _prepare(schema, query)


def _prepare(schema: GraphQLSchema, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error]
    return document, list(validate(schema, document))


class PreparedDocumentsGraphQLView(GraphQLView):
    """For schemas of queries only (the simulators have no mutations); no graphiql."""

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: dict[str, Any],
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> ExecutionResult | None:
        if not query:
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        schema = self.schema.graphql_schema
        prepare = _prepared if len(query) <= MAX_QUERY_LENGTH else _prepare
        document, errors = prepare(schema, query)
        if document is None or errors:
            return ExecutionResult(data=None, errors=errors)
        try:
            result = execute(
                schema,
                document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
            )
        except Exception as error:  # as graphene-django: the error goes into the answer
            return ExecutionResult(errors=[error])
        assert isinstance(result, ExecutionResult)
        return result
