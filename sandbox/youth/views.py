from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from graphql import GraphQLError

from sandbox.bearer import bearer_token_check
from sandbox.demo import YOUTH_AUDIENCE
from sandbox.graphql_view import PreparedDocumentsGraphQLView
from sandbox.youth.graphql.errors import GENERAL_ERROR
from sandbox.youth.schema import schema


class YouthGraphQLView(PreparedDocumentsGraphQLView):
    """Bearer-token GraphQL endpoint: errors are HTTP 200 with ``extensions.code``; a query
    that does not parse or validate is HTTP 400 (graphene-django's behaviour)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.youth_token = bearer_token_check(  # type: ignore[attr-defined]
            request, audience=YOUTH_AUDIENCE
        )
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if not isinstance(error, GraphQLError):
            return {"message": str(error), "extensions": {"code": GENERAL_ERROR}}
        formatted: dict[str, Any] = dict(error.formatted)
        original = error.original_error
        if original is not None and not isinstance(original, GraphQLError):
            # An exception from inside a resolver: the real service maps it to GENERAL_ERROR.
            formatted["extensions"] = {"code": GENERAL_ERROR}
        elif original is None and not formatted.get("extensions"):
            formatted["extensions"] = {"code": GENERAL_ERROR}
        return formatted


graphql_view = csrf_exempt(YouthGraphQLView.as_view(schema=schema, graphiql=False))
