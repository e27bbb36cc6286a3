"""The one GraphQL endpoint, for browser sessions and bearer tokens alike.

- With an `Authorization` header the request is a bearer-token API call: cookies are ignored and
  CSRF does not apply (a cross-site page cannot set that header). A bad token is a 401 with
  `WWW-Authenticate`, a missing scope a 403, never a 500.
- Without it, the browser's session cookie is used and CSRF protection applies (a JSON 403).
  A caller with neither is told to authenticate: a JSON 401 with `WWW-Authenticate: Bearer`.
- Every document is checked before it runs (wallet/graphql/documents.py): bad input of any kind
  is a 400 or a BAD_USER_INPUT error with a stable code; INTERNAL_ERROR is for our own faults.
- Exception text never reaches a client: errors carry a stable `extensions.code`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
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
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast

from wallet.auth import bearer
from wallet.auth.principal import (
    ServicePrincipal,
    principal_from_session,
    principal_from_token,
    service_for_client,
)
from wallet.bearer_api import bearer_api
from wallet.erasure import ErasureIncomplete, IssuedBeforeErasure
from wallet.graphql.documents import document_prepare
from wallet.graphql.errors import ApiError, ErrorCode
from wallet.graphql.limits import bad_text_error, variables_have_bad_text
from wallet.services import citizen_get_or_create, profile_update_from_claims

logger = logging.getLogger(__name__)


MAX_QUERY_LENGTH = 20_000


def _csrf_failure_check(request: HttpRequest) -> HttpResponse | None:
    # The middleware's own check, run here because the view as a whole is CSRF-exempt.
    def no_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    return CsrfViewMiddleware(no_view).process_view(request, no_view, (), {})


# What a caller without credentials is told to bring (RFC 6750: no error code when none was sent).
_WWW_AUTHENTICATE_ANONYMOUS = 'Bearer realm="oma-helsinki-wallet"'


def _error_response(
    message: str, code: str, status: int, *, www_authenticate: str | None = None
) -> JsonResponse:
    """An error answered before GraphQL runs: JSON, never cached; a 401 says how to
    authenticate."""
    response = JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )
    if www_authenticate is not None or status == 401:
        response["WWW-Authenticate"] = www_authenticate or _WWW_AUTHENTICATE_ANONYMOUS
    add_never_cache_headers(response)
    return response


def _token_error_response(error: bearer.TokenError) -> JsonResponse:
    code = ErrorCode.UNAUTHENTICATED if error.status == 401 else ErrorCode.PERMISSION_DENIED
    return _error_response(
        str(error), code, error.status, www_authenticate=bearer.www_authenticate(error)
    )


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
    try:
        citizen, created = citizen_get_or_create(
            issuer=access_token.issuer,
            subject=access_token.subject,
            issued_at=datetime.fromtimestamp(access_token.claims["iat"], tz=UTC),
        )
    except IssuedBeforeErasure:
        # Tokens from before an erasure bring nobody back: a new sign-in starts a new wallet.
        raise bearer.TokenError(
            "The access token was issued before this account's data was erased: sign in again"
        ) from None
    except ErasureIncomplete:
        raise bearer.TokenError(
            "This account's earlier data is still being erased: try again in a moment"
        ) from None
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


def _bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(message))


def _is_client_error(error: GraphQLError) -> bool:
    """The request itself was wrong (syntax, validation, a limit, its variables): such errors
    come before execution, so they have no path, and carry no exception of ours."""
    original = error.original_error
    return error.path is None and (original is None or isinstance(original, GraphQLError))


@bearer_api  # a bearer call skips the browsers' middleware (wallet/bearer_api.py)
@method_decorator(csrf_exempt, name="dispatch")
class WalletGraphQLView(GraphQLView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The schema named by settings.GRAPHENE now (graphene-django keeps the one it first read,
        # in a settings object a setting change does not reach from its views module).
        if "schema" not in kwargs:
            configured = settings.GRAPHENE["SCHEMA"]
            kwargs["schema"] = (
                import_string(configured) if isinstance(configured, str) else configured
            )
        super().__init__(*args, **kwargs)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bearer_call = "Authorization" in request.headers
        if bearer_call:
            try:
                authenticate_bearer(request)
            except bearer.TokenError as error:
                return _token_error_response(error)
        else:
            request.principal = principal_from_session(request)  # type: ignore[attr-defined]
            if request.method == "POST" and _csrf_failure_check(request) is not None:
                if request.principal is None:  # type: ignore[attr-defined]
                    # No session to forge a request with: this caller has not authenticated.
                    return _error_response(
                        "Sign in, or call with a bearer token.", ErrorCode.UNAUTHENTICATED, 401
                    )
                return _error_response(
                    "The CSRF token is missing or wrong: send the wallet_csrftoken cookie's "
                    "value in the X-CSRFToken header.",
                    ErrorCode.PERMISSION_DENIED,
                    403,
                )
        if bearer_call:
            # graphene-django's dispatch is wrapped in ensure_csrf_cookie, for browsers. A bearer
            # call has no use for a CSRF cookie, and minting one costs more than a small query.
            response = _graphene_dispatch_without_csrf_cookie(self, request, *args, **kwargs)
        else:
            response = super().dispatch(request, *args, **kwargs)
            if getattr(request, "wallet_needs_authentication", False):
                # An anonymous caller asked for something that needs a principal.
                response.status_code = 401
                response["WWW-Authenticate"] = _WWW_AUTHENTICATE_ANONYMOUS
        # Personal data: never cached by a browser or a proxy (no-store, private).
        add_never_cache_headers(response)
        return response

    def parse_body(self, request: HttpRequest) -> Any:
        if self.get_content_type(request) in ("application/json", "application/graphql"):
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad_request("The request body is not valid UTF-8.") from None
        try:
            return super().parse_body(request)
        except RecursionError:
            raise _bad_request("The request body is nested too deeply.") from None

    @staticmethod
    def get_graphql_params(request: HttpRequest, data: Any) -> Any:
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if query is not None and not isinstance(query, str):
            raise _bad_request("`query` must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise _bad_request("`variables` must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request("`operationName` must be a string.")
        return query, variables, operation_name, id_

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
            raise _bad_request("Must provide query string.")
        if len(query) > MAX_QUERY_LENGTH:
            raise _bad_request("The query is too long.")
        anonymous = (
            getattr(request, "principal", None) is None
            and getattr(request, "service_principal", None) is None
        )
        prepared = document_prepare(
            self.schema.graphql_schema,
            query,
            allow_introspection=settings.DEBUG,
            anonymous=anonymous,
        )
        if prepared.document is None:
            return ExecutionResult(data=None, errors=list(prepared.errors))
        if variables_have_bad_text(variables):
            return ExecutionResult(data=None, errors=[bad_text_error()])
        operation = get_operation_ast(prepared.document, operation_name)
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
                prepared.document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
            )
        except Exception as error:  # reported through format_error, never as a 500 page
            return ExecutionResult(errors=[GraphQLError("execution failed", original_error=error)])
        assert isinstance(result, ExecutionResult), "no async resolvers in this schema"
        if anonymous and any(
            _error_code(e) == ErrorCode.UNAUTHENTICATED for e in result.errors or ()
        ):
            request.wallet_needs_authentication = True  # type: ignore[attr-defined]
        return result

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, GraphQLError):
            original = error.original_error
            if isinstance(error, ApiError) or isinstance(original, ApiError):
                formatted = dict(error.formatted)
                formatted["extensions"] = {"code": _error_code(error)}
                if isinstance(original, ApiError):
                    formatted["message"] = original.message
                return formatted
            if _is_client_error(error):
                formatted = dict(error.formatted)
                formatted["extensions"] = {
                    "code": (error.extensions or {}).get("code", ErrorCode.BAD_USER_INPUT.value)
                }
                return formatted
            failure = type(original).__name__ if original is not None else "GraphQLError"
            logger.error("GraphQL resolver failed: %s", failure, exc_info=original)
            return {
                "message": "Something went wrong on our side.",
                "locations": error.formatted.get("locations"),
                "path": error.path,
                "extensions": {"code": ErrorCode.INTERNAL_ERROR.value},
            }
        # HttpError from graphene-django or from this view (bad method, no query): its message is
        # ours, never an exception's text.
        status = getattr(getattr(error, "response", None), "status_code", 400)
        code = ErrorCode.BAD_USER_INPUT if status == 400 else ErrorCode.INVALID
        return {"message": str(error), "extensions": {"code": code.value}}

    def json_encode(self, request: HttpRequest, d: Any, pretty: bool = False) -> str:
        return json.dumps(d, separators=(",", ":"), default=str)


def _error_code(error: GraphQLError) -> str:
    """The stable code an ApiError (raised directly or from a resolver) carries."""
    original = error.original_error
    api_error = original if isinstance(original, ApiError) else error
    return str((api_error.extensions or {}).get("code", ErrorCode.INVALID.value))
