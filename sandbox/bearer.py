"""Bearer JWTs from the sandbox provider, validated locally by each simulated resource server.

Every simulator checks the same things (signature with the provider's own key, ``iss``, ``exp``
and its own audience) and differs only in the error codes it answers with, so this module says
*what* went wrong and each simulator maps that to its own vocabulary.
"""

from __future__ import annotations

import enum
import functools
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest

from sandbox.idp.claims import service_account_sub
from sandbox.keys import load_private_key


class TokenFailure(enum.Enum):
    MISSING = "missing"  # no ``Authorization: Bearer`` header
    INVALID = "invalid"  # bad signature, issuer or audience; not a JWT at all
    EXPIRED = "expired"  # well-formed and ours, but past ``exp``: renew and retry


@dataclass(frozen=True)
class TokenCheck:
    """What the request's bearer token proved: ``claims``, or why it proved nothing."""

    claims: dict[str, Any] | None = None
    failure: TokenFailure | None = None

    @property
    def is_service(self) -> bool:
        """A client-credentials token (a city service account), as opposed to a citizen's."""
        if not self.claims:
            return False
        expected = service_account_sub(
            issuer=settings.ISSUER, client_id=str(self.claims.get("client_id", ""))
        )
        return self.claims.get("sub") == expected

    @property
    def subject(self) -> str | None:
        return None if not self.claims else str(self.claims.get("sub", ""))


@functools.lru_cache(maxsize=256)
def _verified(token: str, audience: str, issuer: str, private_pem: str) -> dict[str, Any]:
    """The claims of a token whose signature, issuer and audience check out, expiry aside:
    kept, so that a sweep's thousands of calls with one token verify it once (a check that
    fails raises, and is not kept)."""
    return jwt.decode(
        token,
        load_private_key(private_pem).public_key(),
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
        options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_exp": False},
    )


def bearer_token_check(request: HttpRequest, *, audience: str) -> TokenCheck:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return TokenCheck(failure=TokenFailure.MISSING)
    try:
        claims = _verified(token.strip(), audience, settings.ISSUER, settings.OIDC_PRIVATE_KEY)
    except jwt.InvalidTokenError:
        return TokenCheck(failure=TokenFailure.INVALID)
    exp = claims["exp"]
    if not isinstance(exp, int | float) or exp <= time.time():  # as PyJWT's own check
        return TokenCheck(failure=TokenFailure.EXPIRED)
    return TokenCheck(claims=dict(claims))
