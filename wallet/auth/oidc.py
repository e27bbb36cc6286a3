"""Browser login through the city's OpenID Connect provider (mozilla-django-oidc).

Changes to the library's defaults, each for a reason:
- citizens are matched on (iss, sub), never on email (emails change and are reused);
- the ID token's `iss` and `aud` are checked (the library checks neither) and the JWKS is cached
  (the library fetches it on every login);
- the ID token's `exp`/`iat`/`nbf` must be numbers and its lifetime bounded, as for access tokens;
- the claims come from userinfo, or from the verified ID token when userinfo refuses the access
  token or OIDC_CLAIMS_SOURCE says `token` (see wallet.auth.userinfo);
- after login the apps' sign-in callbacks run (wallet.hooks): the connectors enqueue a data
  sync of the citizen's sources;
- every failure of the callback (the provider's `error=`, an unknown state, the token endpoint,
  userinfo, the ID token, the network) is a "Sign-in failed" page with a 4xx status, never a 500,
  and the log says only which kind of failure it was;
- logout also ends the provider session (end-session endpoint with `id_token_hint`);
- a sign-in after the citizen's wallet was erased starts a new, empty wallet (an erasure still
  under way is finished first) and says so once (docs/erasure.md).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from mozilla_django_oidc import middleware as mozilla_middleware
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from wallet import erasure, hooks, services
from wallet.auth import userinfo
from wallet.auth.bearer import TokenTimesError, jwks_client, token_times_check
from wallet.auth.principal import SESSION_LOA_KEY, roles_in
from wallet.models import Citizen

logger = logging.getLogger(__name__)

# Error codes a provider may send back to the callback (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6) and
# at the token endpoint (RFC 6749 5.2): logged as they are; anything else is logged as "other".
OAUTH_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
    }
)


# The signed-in person's name, from the login's claims, kept in the (encrypted) session.
SESSION_NAME_KEY = "wallet_name"
NAME_MAX_LENGTH = 200


def display_name(claims: dict[str, Any]) -> str:
    """The name to greet someone by: the `name` claim, else given and family names."""
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = (claims.get("given_name"), claims.get("family_name"))
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return " ".join(name.split())[:NAME_MAX_LENGTH]


def _oauth_error(value: Any) -> str:
    return value if isinstance(value, str) and value in OAUTH_ERRORS else "other"


def _token_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "other"
    return _oauth_error(body.get("error") if isinstance(body, dict) else None)


class SignInFailed(Exception):
    """The browser login cannot go on. `reason` and `detail` are fixed words, an HTTP status or
    an exception's type name: safe to log, and nothing the provider or the browser sent."""

    def __init__(self, reason: str, *, detail: str = "", status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.status = status


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The token endpoint's answer; its failures become SignInFailed (the library's HTTPError
        quotes the answer's body)."""
        try:
            token_info = super().get_token(payload)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if exc.response is not None and 400 <= status < 500:
                # RFC 6749 5.2: the code or the client was refused (invalid_grant, ...).
                raise SignInFailed(
                    "token_refused", detail=f"HTTP {status}, {_token_error(exc.response)}"
                ) from None
            raise SignInFailed(
                "token_endpoint_failed", detail=f"HTTP {status}", status=400
            ) from None
        except requests.RequestException as exc:  # unreachable, timed out, an answer not JSON
            raise SignInFailed(
                "token_endpoint_failed", detail=type(exc).__name__, status=400
            ) from None
        if not isinstance(token_info, dict):
            raise SignInFailed("token_endpoint_failed", detail="not a JSON object", status=400)
        return token_info

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        nonce = kwargs.get("nonce")
        if not isinstance(token, str) or not token:
            raise SignInFailed("id_token_rejected", detail="missing")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
                raise SignInFailed("id_token_rejected", detail="unexpected algorithm")
            try:
                signing_key = jwks_client().get_signing_key(str(header.get("kid", "")))
            except jwt.PyJWKClientConnectionError:
                raise SignInFailed("jwks_unreachable", status=400) from None
            payload = jwt.decode(
                token,
                key=signing_key.key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=settings.WALLET_TOKEN_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            token_times_check(payload, token_name="ID token")
        except jwt.PyJWTError as exc:
            raise SignInFailed("id_token_rejected", detail=type(exc).__name__) from None
        except TokenTimesError:
            raise SignInFailed("id_token_rejected", detail="exp/iat/nbf") from None
        if not isinstance(payload["sub"], str) or not payload["sub"]:
            raise SignInFailed("id_token_rejected", detail="sub")
        if self.get_settings("OIDC_USE_NONCE", True) and nonce != payload.get("nonce"):
            raise SignInFailed("id_token_rejected", detail="nonce")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Claims about the citizen: userinfo's, or the verified ID token's (OIDC_CLAIMS_SOURCE
        `token`, no userinfo endpoint, or userinfo refusing the access token)."""
        if not userinfo.userinfo_wanted() or not access_token:
            return payload
        try:
            claims = userinfo.userinfo_fetch(access_token=access_token)
        except userinfo.UserinfoRefused as exc:
            logger.info("userinfo refused the login's access token (HTTP %s)", exc.status)
            return payload
        except userinfo.UserinfoFailed as exc:
            raise SignInFailed("userinfo_failed", detail=str(exc), status=400) from None
        if claims.get("sub") != payload.get("sub"):
            # OIDC Core 5.3.2: the userinfo response must be about the ID token's subject.
            raise SignInFailed("userinfo_subject_mismatch")
        # The ID token is the verified source of iss and the level of assurance.
        return {**claims, "iss": payload["iss"], "loa": payload.get("loa", claims.get("loa"))}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Citizen]:
        # An erasure of this person still under way is finished first: the sign-in then
        # starts a new wallet (create_user).
        try:
            erasure.erasures_finish(issuer=claims["iss"], subject=claims["sub"])
        except erasure.ErasureIncomplete:
            raise SignInFailed("erasure_incomplete", status=400) from None
        return Citizen.objects.filter(issuer=claims["iss"], subject=claims["sub"])

    def create_user(self, claims: dict[str, Any]) -> Citizen:
        citizen, created = services.citizen_get_or_create(
            issuer=claims["iss"], subject=claims["sub"]
        )
        if created and citizen.previous_wallet_erased_at and self.request is not None:
            erased_on = date_format(
                timezone.localtime(citizen.previous_wallet_erased_at), "SHORT_DATE_FORMAT"
            )
            messages.info(
                self.request,
                _(
                    "Your earlier wallet was erased on %(date)s. This is a new, empty wallet: "
                    "your data from the city's services is fetched again."
                )
                % {"date": erased_on},
            )
        return self.update_user(citizen, claims)

    def update_user(self, user: Citizen, claims: dict[str, Any]) -> Citizen:
        services.profile_update_from_claims(citizen=user, claims=claims)
        # Admin rights follow the provider's role claim at every login, both ways.
        services.citizen_staff_set(
            citizen=user, is_staff=settings.WALLET_ADMIN_ROLE in roles_in(claims)
        )
        if self.request is not None and isinstance(claims.get("loa"), str):
            self.request.session[SESSION_LOA_KEY] = claims["loa"]
        if self.request is not None:
            # The name to greet them by (the admin's header, the staff pages): in the sealed
            # session only, never in a plaintext column.
            name = display_name(claims)
            if name:
                self.request.session[SESSION_NAME_KEY] = name
            else:
                self.request.session.pop(SESSION_NAME_KEY, None)
        return user

    def get_user(self, user_id: Any) -> Citizen | None:
        return Citizen.objects.filter(pk=user_id, is_active=True).first()


class CitizenCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here. Success: signed in, to the front page. Any
    failure: the "Sign-in failed" page (400 for a malformed callback or a provider that did not
    answer usefully, 401 for a refused sign-in), with a link to try again."""

    def get(self, request: HttpRequest) -> HttpResponse:
        # A silent check (prompt=none) comes back for someone already signed in.
        self.signed_in_before = request.user.pk if request.user.is_authenticated else None
        if request.GET.get("error") == "login_required" and self.signed_in_before:
            # The provider's sign-in has ended: so does the wallet's.
            self._forget_state(request)
            messages.info(request, _("Your sign-in has ended. Sign in again to continue."))
            return HttpResponseRedirect(reverse("home"))
        if request.GET.get("error"):
            self._forget_state(request)
            return self.sign_in_failed(
                SignInFailed("provider_error", detail=_oauth_error(request.GET["error"]))
            )
        if not request.GET.get("code") or not request.GET.get("state"):
            return self.sign_in_failed(SignInFailed("callback_incomplete", status=400))
        if request.GET["state"] not in request.session.get("oidc_states", {}):
            # Forged, replayed, or the session expired while the citizen was at the provider.
            return self.sign_in_failed(SignInFailed("state_unknown", status=400))
        try:
            return super().get(request)
        except SignInFailed as failure:
            return self.sign_in_failed(failure)

    def login_failure(self) -> HttpResponse:
        # The library's own failures: no user (claims refused) or an inactive one.
        return self.sign_in_failed(SignInFailed("not_signed_in"))

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if getattr(self, "signed_in_before", None) != self.user.pk:
            # The apps' callbacks: the connectors enqueue a sync of the citizen's sources (not
            # again at each silent renewal of the same sign-in).
            hooks.citizen_signed_in(citizen=self.user)
        return response

    def sign_in_failed(self, failure: SignInFailed) -> HttpResponse:
        detail = f" ({failure.detail})" if failure.detail else ""
        logger.warning("sign-in failed: %s%s", failure.reason, detail)
        if not self.request.user.is_authenticated:
            # The library stores the ID token before it asks userinfo: not for a failed login.
            self.request.session.pop("oidc_id_token", None)
        response = render(self.request, "wallet/sign_in_failed.html", status=failure.status)
        add_never_cache_headers(response)
        return response

    @staticmethod
    def _forget_state(request: HttpRequest) -> None:
        """As the library does for an `error=` callback: the state cannot be replayed, and a
        signed-in user is signed out."""
        states = request.session.get("oidc_states", {})
        if request.GET.get("state") in states:
            del states[request.GET["state"]]
            request.session.modified = True
        if request.user.is_authenticated:
            auth.logout(request)


def provider_logout_url(request: HttpRequest, *, back_to: str = "/") -> str:
    """The provider's end-session URL; the browser comes back to the wallet's `back_to` page
    (the front page; the "data erased" page after an erasure). The provider must know each
    such URL (its registered post-logout redirect URIs). Read the session before it is flushed:
    the ID token in it is the `id_token_hint`."""
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(back_to),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_END_SESSION_ENDPOINT}?{urlencode(params)}"


class SessionRefresh(mozilla_middleware.SessionRefresh):
    """mozilla-django-oidc's silent renewal, with the provider's endpoint and client id read
    from settings at each request (the library reads them once, when the middleware is made),
    so the provider can be changed in settings without a restart, as in the tests."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        self.OIDC_OP_AUTHORIZATION_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        response: HttpResponse | None = super().process_request(request)
        return response
