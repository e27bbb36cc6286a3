"""Browser login through the city's OpenID Connect provider (mozilla-django-oidc).

Changes to the library's defaults, each for a reason:
- citizens are matched on (iss, sub), never on email (emails change and are reused);
- the ID token's `iss` and `aud` are checked (the library checks neither) and the JWKS is cached
  (the library fetches it on every login);
- a data sync of the citizen's sources is enqueued after login;
- logout also ends the provider session (end-session endpoint with `id_token_hint`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from wallet import services
from wallet.auth.bearer import jwks_client
from wallet.auth.principal import SESSION_LOA_KEY, roles_in
from wallet.models import Citizen

logger = logging.getLogger(__name__)


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        nonce = kwargs.get("nonce")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
                raise SuspiciousOperation("ID token signed with an unexpected algorithm")
            signing_key = jwks_client().get_signing_key(str(header.get("kid", "")))
            payload = jwt.decode(
                token,
                key=signing_key.key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=settings.WALLET_TOKEN_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token rejected: {type(exc).__name__}") from None
        if self.get_settings("OIDC_USE_NONCE", True) and nonce != payload.get("nonce"):
            raise SuspiciousOperation("ID token nonce does not match")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            # OIDC Core 5.3.2: the userinfo response must be about the ID token's subject.
            raise SuspiciousOperation("userinfo subject differs from the ID token's")
        # The ID token is the verified source of iss and the level of assurance.
        return {**userinfo, "iss": payload["iss"], "loa": payload.get("loa", userinfo.get("loa"))}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Citizen]:
        return Citizen.objects.filter(issuer=claims["iss"], subject=claims["sub"])

    def create_user(self, claims: dict[str, Any]) -> Citizen:
        citizen, _ = services.citizen_get_or_create(issuer=claims["iss"], subject=claims["sub"])
        return self.update_user(citizen, claims)

    def update_user(self, user: Citizen, claims: dict[str, Any]) -> Citizen:
        services.profile_update_from_claims(citizen=user, claims=claims)
        # Admin rights follow the provider's role claim at every login, both ways.
        services.citizen_staff_set(
            citizen=user, is_staff=settings.WALLET_ADMIN_ROLE in roles_in(claims)
        )
        if self.request is not None and isinstance(claims.get("loa"), str):
            self.request.session[SESSION_LOA_KEY] = claims["loa"]
        return user

    def get_user(self, user_id: Any) -> Citizen | None:
        return Citizen.objects.filter(pk=user_id, is_active=True).first()


class CitizenCallbackView(OIDCAuthenticationCallbackView):
    def login_success(self) -> HttpResponse:
        # Imported here: the auth backend module loads with settings, before the apps are ready.
        from connectors.tasks import citizen_sync_enqueue

        response = super().login_success()
        citizen_sync_enqueue(citizen_id=self.user.pk, reason="login")
        return response


def provider_logout_url(request: HttpRequest) -> str:
    """The provider's end-session URL; the browser comes back to the wallet's front page."""
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri("/"),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_END_SESSION_ENDPOINT}?{urlencode(params)}"
