from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from graphql import GraphQLError

from sandbox.bearer import bearer_token_check
from sandbox.berths.graphql.errors import GENERAL_ERROR, VENEPAIKKA_ERROR
from sandbox.berths.schema import schema
from sandbox.demo import BERTHS_AUDIENCE
from sandbox.graphql_view import PreparedDocumentsGraphQLView


class BerthsGraphQLView(PreparedDocumentsGraphQLView):
    """Bearer-token GraphQL endpoint: errors are HTTP 200 with ``extensions.type``; a query
    that does not parse or validate is HTTP 400 (graphene-django's behaviour)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.berths_token = bearer_token_check(  # type: ignore[attr-defined]
            request, audience=BERTHS_AUDIENCE
        )
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if not isinstance(error, GraphQLError):
            return {"message": str(error), "extensions": {"type": GENERAL_ERROR}}
        formatted: dict[str, Any] = dict(error.formatted)
        original = error.original_error
        if isinstance(original, AssertionError):
            # graphene-django checks connection arguments (page size limit, ...) with asserts.
            formatted["extensions"] = {"type": VENEPAIKKA_ERROR}
        elif (original is not None and not isinstance(original, GraphQLError)) or not (
            formatted.get("extensions") or {}
        ).get("type"):
            formatted["extensions"] = {"type": GENERAL_ERROR}
        return formatted


graphql_view = csrf_exempt(BerthsGraphQLView.as_view(schema=schema, graphiql=False))
