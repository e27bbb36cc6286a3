from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from sandbox.demo import GDPR_SCOPES, HELSINKI_PROFILE_CLIENT_ID
from sandbox.idp.claims import user_claims

ClaimFn = Callable[[Any], Any]


def _claim(name: str) -> ClaimFn:
    return lambda request: user_claims(request.user)[name]


class SandboxOAuth2Validator(OAuth2Validator):
    """ID token and userinfo claims from :func:`sandbox.idp.claims.user_claims`.

    ``loa`` and ``roles`` ride on ``openid`` so that every relying party gets them; names
    need ``profile`` and the address needs ``email``, as the OIDC spec maps them.
    """

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "loa": "openid",
        "roles": "openid",
    }

    def get_claim_dict(self, request: Any) -> dict[str, ClaimFn]:
        # DOT's default is ``str(user.pk)``; say explicitly that ``sub`` is the profile UUID.
        return {"sub": _claim("sub"), **self.get_additional_claims()}

    # Request-agnostic form (no ``request`` parameter): DOT then lists these claims under
    # ``claims_supported`` in the discovery document.
    def get_additional_claims(self) -> dict[str, ClaimFn]:  # type: ignore[override]
        names = ("given_name", "family_name", "email", "loa", "roles")
        return {name: _claim(name) for name in names}

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # As in the city's provider, only the profile service may get the GDPR API's scopes.
        if client_id != HELSINKI_PROFILE_CLIENT_ID and set(scopes) & set(GDPR_SCOPES):
            return False
        return bool(super().validate_scopes(client_id, scopes, client, request, *args, **kwargs))

    # Silent sign-in (prompt=none), as the city's provider answers it. DOT's authorize view lets
    # only a signed-in user get this far (anyone else gets `login_required`, in
    # AuthorizationView.handle_no_permission), and every sandbox client skips the consent page.
    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True
