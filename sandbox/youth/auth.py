"""Bearer tokens of the youth service: validated locally with the provider's own key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest

from sandbox.demo import YOUTH_AUDIENCE
from sandbox.idp.claims import service_account_sub
from sandbox.keys import load_private_key


@dataclass(frozen=True)
class TokenCheck:
    """What the request's bearer token proved: ``claims`` or the error code to answer with."""

    claims: dict[str, Any] | None = None
    error_code: str | None = None

    @property
    def is_service(self) -> bool:
        """A client-credentials token (a city service account), as opposed to a citizen's."""
        if not self.claims:
            return False
        expected = service_account_sub(
            issuer=settings.ISSUER, client_id=str(self.claims.get("client_id", ""))
        )
        return self.claims.get("sub") == expected


def bearer_token_check(request: HttpRequest) -> TokenCheck:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return TokenCheck(error_code="PERMISSION_DENIED_ERROR")
    public_key = load_private_key(settings.OIDC_PRIVATE_KEY).public_key()
    try:
        claims = jwt.decode(
            token.strip(),
            public_key,
            algorithms=["RS256"],
            audience=YOUTH_AUDIENCE,
            issuer=settings.ISSUER,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        return TokenCheck(error_code="TOKEN_EXPIRED_ERROR")
    except jwt.InvalidTokenError:
        return TokenCheck(error_code="PERMISSION_DENIED_ERROR")
    return TokenCheck(claims=claims)
