"""The city's GDPR API, as a provider: the Helsinki profile service asks here for everything the
wallet holds about a citizen, or for its deletion, when the citizen asks the city.

    GET    /gdpr-api/v1/profiles/<uuid>             the data as a tree of {key, value|children}
    DELETE /gdpr-api/v1/profiles/<uuid>[?dry_run=true]

`<uuid>` is the citizen's Helsinki profile id: their `sub` at the sign-in provider. The caller
sends the citizen's own access token (from GDPR_API_ISSUER, for GDPR_API_AUDIENCE) carrying
GDPR_API_QUERY_SCOPE for GET or GDPR_API_DELETE_SCOPE for DELETE, as the city's other services
require (the open-city-profile GDPR API specification, and helsinki-profile-gdpr-api's
behaviour):

- 200 with the tree; 204 when the wallet holds nothing of that profile (never seen, or erased);
- DELETE: 204 once nothing is left (also for an unknown profile); with `dry_run` nothing is
  changed and 204 says the erasure would be allowed;
- 401 for a missing or invalid token, 403 for a token without the operation's scope or about
  another profile, 400 for a malformed `dry_run`, 404 for a path that is not a profile id;
- errors carry `{"errors": [{"code", "message": {"fi", "sv", "en"}}]}`.

Cookies are ignored: only the bearer token counts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from wallet import erasure
from wallet.auth import bearer
from wallet.export import citizen_export
from wallet.models import Citizen, Erasure

logger = logging.getLogger(__name__)

ROOT_KEY = "OMA_HELSINKI_WALLET"
_MESSAGE_LANGUAGES = ("fi", "sv", "en")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


class GdprApiError(Exception):
    """A refusal with the specification's error body. `message` is lazy text, rendered in each
    of the body's languages."""

    def __init__(self, *, status: int, code: str, message: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


def _localized(message: Any) -> dict[str, str]:
    rendered = {}
    for language in _MESSAGE_LANGUAGES:
        with translation.override(language):
            rendered[language] = str(message)
    return rendered


def error_response(error: GdprApiError) -> JsonResponse:
    response = JsonResponse(
        {"errors": [{"code": error.code, "message": _localized(error.message)}]},
        status=error.status,
    )
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="oma-helsinki-wallet", error="invalid_token"'
    elif error.code == "INSUFFICIENT_SCOPE":
        response["WWW-Authenticate"] = (
            'Bearer realm="oma-helsinki-wallet", error="insufficient_scope"'
        )
    return response


def gdpr_audience() -> bearer.TokenAudience:
    return bearer.TokenAudience(
        issuer=settings.GDPR_API_ISSUER or settings.OIDC_ISSUER,
        audience=settings.GDPR_API_AUDIENCE or settings.WALLET_API_AUDIENCE,
        jwks_url=settings.GDPR_API_JWKS_ENDPOINT or settings.OIDC_OP_JWKS_ENDPOINT,
    )


def _caller_token(request: HttpRequest, *, scope: str, profile_id: uuid.UUID) -> bearer.AccessToken:
    """The citizen's own token, with the operation's scope, about this profile."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise GdprApiError(
            status=401,
            code="UNAUTHORIZED",
            message=gettext_lazy("The request carries no bearer token."),
        )
    try:
        token = bearer.access_token_validate(raw.strip(), audience=gdpr_audience())
    except bearer.TokenError as exc:
        logger.info("GDPR API refused a token: %s", exc)
        raise GdprApiError(
            status=401,
            code="INVALID_TOKEN",
            message=gettext_lazy("The access token is not valid."),
        ) from None
    if scope not in token.scopes:
        raise GdprApiError(
            status=403,
            code="INSUFFICIENT_SCOPE",
            message=gettext_lazy("The access token does not allow this operation."),
        )
    if token.subject != str(profile_id):
        # Checked before looking the profile up, so a token cannot probe for other profiles.
        raise GdprApiError(
            status=403,
            code="FORBIDDEN",
            message=gettext_lazy("The access token is not for this profile."),
        )
    return token


def _dry_run(request: HttpRequest) -> bool:
    value = request.GET.get("dry_run", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise GdprApiError(
        status=400,
        code="INVALID_PARAMETER",
        message=gettext_lazy("dry_run must be true or false."),
    )


def _citizen(token: bearer.AccessToken) -> Citizen | None:
    # The citizen signed in with the provider that issued the GDPR token (the city's own).
    return Citizen.objects.filter(issuer=settings.OIDC_ISSUER, subject=token.subject).first()


def _being_erased(citizen: Citizen) -> bool:
    """Erased for everyone already, the rest of the erasure under way (docs/erasure.md)."""
    return not citizen.is_active and Erasure.objects.filter(citizen_id=citizen.pk).exists()


# Members of the export that describe rather than hold the citizen's data (labels, types, why
# the city holds a source), or that only a machine checks (signatures, digests, chain values):
# the export keeps them; the profile service shows the citizen the data.
_NOT_IN_TREE = frozenset(
    {
        "$schema",
        "signature",
        "label",
        "type",
        "sensitive",
        "valueLabel",
        "subFieldLabels",
        "processing",
        "chainedMembers",
        "receipt",
        "consentRecord",
        "digest",
        "previousDigest",
        "mac",
        "previousMac",
        "chainHash",
        "previousChainHash",
    }
)
# What one item of a list is called, where dropping an "s" does not say it.
_ITEM_KEYS = {"statusChain": "status", "entries": "entry", "consentIds": "consentId"}


def node_key(name: str) -> str:
    """A tree key from an export key or a field id: `fetchedAt` -> FETCHED_AT,
    `youth.membership.status` -> YOUTH_MEMBERSHIP_STATUS."""
    out: list[str] = []
    for index, char in enumerate(name):
        if char.isupper() and index and name[index - 1].islower():
            out.append("_")
        out.append("_" if char in ".-$" else char.upper())
    return "".join(out)


def _item_key(list_key: str) -> str:
    if list_key in _ITEM_KEYS:
        return _ITEM_KEYS[list_key]
    if list_key.endswith("ies"):
        return list_key[:-3] + "y"
    return list_key[:-1] if list_key.endswith("s") else list_key


def _node_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def tree_node(key: str, value: Any) -> dict[str, Any] | None:
    """The specification's node for one member of the export: objects and lists become
    children, scalars values (strings). A catalogue field's entry ({label, value, ...}) is its
    value. Empty values are left out; None when nothing is left."""
    if isinstance(value, Mapping) and "value" in value and "label" in value:
        value = value["value"]
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, Mapping):
        children = [tree_node(k, v) for k, v in value.items() if k not in _NOT_IN_TREE]
    elif isinstance(value, list | tuple):
        children = [tree_node(_item_key(key), item) for item in value]
    else:
        return {"key": node_key(key), "value": _node_value(value)}
    kept = [child for child in children if child is not None]
    return {"key": node_key(key), "children": kept} if kept else None


def gdpr_tree(document: Mapping[str, Any]) -> dict[str, Any]:
    """The citizen's export (wallet.export) as the GDPR API's tree."""
    return tree_node(ROOT_KEY, document) or {"key": ROOT_KEY, "children": []}


@csrf_exempt
@never_cache
def gdpr_profile(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    try:
        if request.method == "GET":
            return _query(request, profile_id)
        if request.method == "DELETE":
            return _delete(request, profile_id)
        raise GdprApiError(
            status=405,
            code="METHOD_NOT_ALLOWED",
            message=gettext_lazy("Only GET and DELETE are allowed."),
        )
    except GdprApiError as error:
        response = error_response(error)
        if error.status == 405:
            response["Allow"] = "GET, DELETE"
        return response


@csrf_exempt
@never_cache
def gdpr_not_a_profile(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything under the API's profiles that is not a profile id."""
    return error_response(
        GdprApiError(
            status=404,
            code="NOT_FOUND",
            message=gettext_lazy("There is no such profile address: profiles are UUIDs."),
        )
    )


def _query(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    token = _caller_token(request, scope=settings.GDPR_API_QUERY_SCOPE, profile_id=profile_id)
    citizen = _citizen(token)
    if citizen is None or _being_erased(citizen):
        return HttpResponse(status=204)
    tree = gdpr_tree(citizen_export(citizen=citizen))
    logger.info("GDPR API: data of citizen %s given to client %s", citizen.pk, token.client_id)
    return JsonResponse(tree)


def _delete(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    token = _caller_token(request, scope=settings.GDPR_API_DELETE_SCOPE, profile_id=profile_id)
    dry_run = _dry_run(request)
    citizen = _citizen(token)
    if citizen is None:
        return HttpResponse(status=204)  # nothing held: the specification's 204 all the same
    try:
        # a dry run runs the erasure's commit point and rolls it back (docs/erasure.md)
        result = erasure.citizen_erase(citizen=citizen, dry_run=dry_run)
        if not (dry_run or result.completed):
            # Erased for everyone already; the rest is retried (and this call's retry finishes
            # it), but "nothing is left" is not true yet.
            raise erasure.ErasureIncomplete(str(citizen.pk))
    except Exception:
        logger.exception("GDPR API: erasure of citizen %s failed", citizen.pk)
        raise GdprApiError(
            status=500,
            code="ERASURE_FAILED",
            message=gettext_lazy("The data could not be erased now. Try again later."),
        ) from None
    if dry_run:
        logger.info("GDPR API: erasure of citizen %s checked (dry run)", citizen.pk)
        return HttpResponse(status=204)
    logger.info(
        "GDPR API: citizen %s erased at the request of client %s", citizen.pk, token.client_id
    )
    return HttpResponse(status=204)
