"""The one GraphQL endpoint, for browser sessions and bearer tokens alike.

- With an `Authorization` header the request is a bearer-token API call: cookies are ignored and
  CSRF does not apply (a cross-site page cannot set that header). A bad token is a 401 with
  `WWW-Authenticate`, a missing scope a 403, never a 500.
- Without it, the browser's session cookie is used and CSRF protection applies.
- Exception text never reaches a client: errors carry a stable `extensions.code`.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from wallet.auth import bearer
from wallet.auth.principal import (
    ServicePrincipal,
    principal_from_session,
    principal_from_token,
    service_for_client,
)
from wallet.graphql.errors import ApiError, ErrorCode
from wallet.services import citizen_get_or_create, profile_update_from_claims

logger = logging.getLogger(__name__)


MAX_QUERY_LENGTH = 20_000


@functools.lru_cache(maxsize=512)
def _parsed_and_validated(
    schema: GraphQLSchema, query: str, max_depth: int, allow_introspection: bool
) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate a query once: clients send the same few queries over and over, and
    validating one costs more than executing a typical `me` query."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    rules: list[Any] = [*specified_rules, depth_limit_validator(max_depth=max_depth)]
    if not allow_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return document, tuple(validate(schema, document, rules, max_errors=20))


def _csrf_failure_check(request: HttpRequest) -> HttpResponse | None:
    # The middleware's own check, run here because the view as a whole is CSRF-exempt.
    def no_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    return CsrfViewMiddleware(no_view).process_view(request, no_view, (), {})


def _token_error_response(error: bearer.TokenError) -> JsonResponse:
    code = ErrorCode.UNAUTHENTICATED if error.status == 401 else ErrorCode.PERMISSION_DENIED
    response = JsonResponse(
        {"errors": [{"message": str(error), "extensions": {"code": code.value}}]},
        status=error.status,
    )
    response["WWW-Authenticate"] = bearer.www_authenticate(error)
    add_never_cache_headers(response)
    return response


def authenticate_bearer(request: HttpRequest) -> None:
    """Validate the bearer token and attach who it speaks for: a registered service (its client
    id is in the service registry), or else the citizen named by `sub`.

    A token issued to a service's client is always the service, whatever its `sub`: a service
    never gets a citizen's powers in the wallet, even with a token from the citizen's login. Only
    the clients listed in WALLET_CITIZEN_CLIENT_IDS speak for citizens: any other client (the
    connectors' own client, a service removed from the registry) is refused.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise bearer.TokenError("The Authorization header must carry a bearer token")
    access_token = bearer.access_token_validate(
        token.strip(), required_scope=settings.WALLET_API_SCOPE
    )
    service = service_for_client(access_token.client_id)
    if service is not None:
        if not service.is_active:
            raise bearer.TokenError("The service is suspended")
        request.principal = None  # type: ignore[attr-defined]
        request.service_principal = ServicePrincipal(  # type: ignore[attr-defined]
            service=service, client_id=access_token.client_id
        )
        return
    if access_token.client_id not in settings.WALLET_CITIZEN_CLIENT_IDS:
        # Neither a registered service nor one of the wallet's own apps: it speaks for nobody
        # (an empty list lets no client act for citizens).
        raise bearer.TokenError("This client may not act for citizens")
    citizen, created = citizen_get_or_create(
        issuer=access_token.issuer, subject=access_token.subject
    )
    if not citizen.is_active:
        raise bearer.TokenError("The account is closed")
    if created:
        # A citizen whose first visit is through the API: the provider's userinfo (asked this
        # once) or the token's own claims start the profile (OIDC_CLAIMS_SOURCE).
        profile_update_from_claims(
            citizen=citizen, claims=bearer.first_sight_claims(access_token, token=token.strip())
        )
    request.user = citizen
    request.principal = principal_from_token(access_token, citizen)  # type: ignore[attr-defined]


# The undecorated GraphQLView.dispatch (method_decorator keeps it as __wrapped__).
_graphene_dispatch_without_csrf_cookie = GraphQLView.dispatch.__wrapped__


@method_decorator(csrf_exempt, name="dispatch")
class WalletGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bearer_call = "Authorization" in request.headers
        if bearer_call:
            try:
                authenticate_bearer(request)
            except bearer.TokenError as error:
                return _token_error_response(error)
        else:
            if request.method == "POST":
                csrf_failure = _csrf_failure_check(request)
                if csrf_failure is not None:
                    return csrf_failure
            request.principal = principal_from_session(request)  # type: ignore[attr-defined]
        if bearer_call:
            # graphene-django's dispatch is wrapped in ensure_csrf_cookie, for browsers. A bearer
            # call has no use for a CSRF cookie, and minting one costs more than a small query.
            response = _graphene_dispatch_without_csrf_cookie(self, request, *args, **kwargs)
        else:
            response = super().dispatch(request, *args, **kwargs)
        # Personal data: never cached by a browser or a proxy.
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        return response

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Any,
        query: str | None,
        variables: Any,
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> ExecutionResult | None:
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        if len(query) > MAX_QUERY_LENGTH:
            raise HttpError(HttpResponseBadRequest("The query is too long."))
        document, errors = _parsed_and_validated(
            self.schema.graphql_schema, query, settings.GRAPHQL_MAX_DEPTH, settings.DEBUG
        )
        if errors or document is None:
            return ExecutionResult(data=None, errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if (
            request.method == "GET"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], "Mutations need POST."))
        try:
            result = execute(
                self.schema.graphql_schema,
                document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
            )
        except Exception as error:  # reported through format_error, never as a 500 page
            return ExecutionResult(errors=[GraphQLError("execution failed", original_error=error)])
        assert isinstance(result, ExecutionResult), "no async resolvers in this schema"
        return result

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, GraphQLError):
            original = error.original_error
            if original is None or isinstance(error, ApiError) or isinstance(original, ApiError):
                formatted = dict(error.formatted)
                api_error = original if isinstance(original, ApiError) else error
                code = (api_error.extensions or {}).get("code", ErrorCode.INVALID.value)
                formatted["extensions"] = {"code": code}
                if isinstance(original, ApiError):
                    formatted["message"] = original.message
                return formatted
            logger.error("GraphQL resolver failed: %s", type(original).__name__, exc_info=original)
            return {
                "message": "Something went wrong on our side.",
                "locations": error.formatted.get("locations"),
                "path": error.path,
                "extensions": {"code": ErrorCode.INTERNAL_ERROR.value},
            }
        # HttpError from graphene-django (bad method, no query): its message is ours.
        return {"message": str(error), "extensions": {"code": ErrorCode.INVALID.value}}

    def json_encode(self, request: HttpRequest, d: Any, pretty: bool = False) -> str:
        return json.dumps(d, separators=(",", ":"), default=str)
