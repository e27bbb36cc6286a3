"""RFC 9068 JWT access tokens, as the city's Keycloak issues them.

django-oauth-toolkit calls ``ACCESS_TOKEN_GENERATOR(request)`` (an oauthlib request) while
building the token response, and stores whatever string it returns as the token (plus a
SHA-256 checksum used for look-ups), so the JWT both goes to the client and is what DOT's own
endpoints (userinfo, introspection, revocation) find in the database.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from django.conf import settings
from oauthlib.common import Request

from sandbox.idp.claims import audience_for_scopes, service_account_sub, user_claims
from sandbox.keys import key_id, load_private_key


def access_token_claims(request: Request, *, now: int | None = None) -> dict[str, Any]:
    issued_at = int(time.time()) if now is None else now
    client_id: str = request.client.client_id
    scopes: list[str] = list(request.scopes or [])
    audiences = audience_for_scopes(scopes) or [client_id]
    claims: dict[str, Any] = {
        "iss": settings.ISSUER,
        "aud": audiences[0] if len(audiences) == 1 else audiences,
        "client_id": client_id,
        "azp": client_id,
        "scope": " ".join(scopes),
        "iat": issued_at,
        "exp": issued_at + int(request.expires_in),
        "jti": str(uuid.uuid4()),
    }
    user = getattr(request, "user", None)
    if request.grant_type == "client_credentials" or user is None:
        claims["sub"] = service_account_sub(issuer=settings.ISSUER, client_id=client_id)
    elif settings.IDP_STRICT:
        # RFC 9068 2.2 and 2.2.3.1 only: who, and the roles; names and email are for userinfo.
        claims.update({key: user_claims(user)[key] for key in ("sub", "roles")})
    else:
        claims.update(user_claims(user))
    return claims


def sign_access_token(claims: dict[str, Any]) -> str:
    pem: str = settings.OIDC_PRIVATE_KEY
    headers = {"typ": "at+jwt", "kid": key_id(pem)}
    return jwt.encode(claims, load_private_key(pem), algorithm="RS256", headers=headers)


def access_token_generator(request: Request) -> str:
    return sign_access_token(access_token_claims(request))
