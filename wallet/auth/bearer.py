"""Bearer access tokens (RFC 9068 JWTs from the city's provider), validated locally.

The signing keys come from the issuer's JWKS through PyJWKClient, which caches them and fetches
again when a token names an unknown `kid`. Only the `kid` of a token's header is used to pick a
key: `jku`, `x5u` and `jwk` headers are never followed, and PyJWT refuses a `crit` header naming an
extension it does not know.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings

from wallet.auth import userinfo

logger = logging.getLogger(__name__)

AT_JWT_TYPES = {"at+jwt", "application/at+jwt"}


class TokenError(Exception):
    """The token is not acceptable: 401 `invalid_token`. The message is safe to show."""

    error = "invalid_token"
    status = 401


class InsufficientScope(TokenError):
    error = "insufficient_scope"
    status = 403


@dataclass(frozen=True)
class AccessToken:
    issuer: str
    subject: str
    client_id: str
    scopes: frozenset[str]
    loa: str | None
    claims: dict[str, Any]


@functools.cache
def _jwks_client(jwks_url: str, lifespan: int, cooldown: float, timeout: float) -> jwt.PyJWKClient:
    # The cooldown bounds how often tokens with made-up `kid`s can make us fetch the JWKS.
    return jwt.PyJWKClient(
        jwks_url, cache_keys=True, lifespan=lifespan, cooldown_duration=cooldown, timeout=timeout
    )


class TokenTimesError(ValueError):
    """`exp`, `iat` or `nbf` is not a number, or the token lives too long. The message is safe
    to show."""


def _is_numeric_date(value: Any) -> bool:
    # RFC 7519 NumericDate: a JSON number. PyJWT passes the claim through int(), which takes
    # the string "9999999999" and true/false; json.loads also reads NaN and Infinity.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def token_times_check(claims: Mapping[str, Any], *, token_name: str) -> None:
    """After PyJWT's checks: `exp`, `iat` (both required) and `nbf` (if present) are numbers, and
    `exp - iat` is positive and at most WALLET_TOKEN_MAX_LIFETIME_SECONDS. For access tokens and
    ID tokens alike."""
    for name in ("exp", "iat", "nbf"):
        if name in claims and not _is_numeric_date(claims[name]):
            raise TokenTimesError(f"The {token_name}'s {name} claim is not a number")
    lifetime = claims["exp"] - claims["iat"]
    if not 0 < lifetime <= settings.WALLET_TOKEN_MAX_LIFETIME_SECONDS:
        raise TokenTimesError(f"The {token_name}'s lifetime (exp - iat) is not accepted")


def jwks_client(jwks_url: str | None = None) -> jwt.PyJWKClient:
    return _jwks_client(
        jwks_url or settings.OIDC_OP_JWKS_ENDPOINT,
        settings.WALLET_JWKS_CACHE_SECONDS,
        settings.WALLET_JWKS_REFRESH_COOLDOWN_SECONDS,
        settings.OIDC_TIMEOUT,
    )


@dataclass(frozen=True)
class TokenAudience:
    """Who a token must come from and be meant for. The wallet's API takes the sign-in
    provider's tokens for WALLET_API_AUDIENCE; the GDPR API (wallet.gdpr_api) names its own."""

    issuer: str
    audience: str
    jwks_url: str


def wallet_api_audience() -> TokenAudience:
    return TokenAudience(
        issuer=settings.OIDC_ISSUER,
        audience=settings.WALLET_API_AUDIENCE,
        jwks_url=settings.OIDC_OP_JWKS_ENDPOINT,
    )


def access_token_validate(
    token: str,
    *,
    required_scope: str | None = None,
    audience: TokenAudience | None = None,
) -> AccessToken:
    """Validate signature, algorithm, type and claims; raise TokenError with a safe reason.
    `audience` defaults to the wallet's API (wallet_api_audience)."""
    audience = audience or wallet_api_audience()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("The access token is malformed") from None
    algorithm = header.get("alg")
    if algorithm not in settings.WALLET_API_TOKEN_ALGORITHMS:
        raise TokenError("The access token's algorithm is not accepted")
    if (
        settings.WALLET_API_REQUIRE_AT_JWT_TYP
        and str(header.get("typ", "")).lower() not in AT_JWT_TYPES
    ):
        raise TokenError("The token is not an access token")
    try:
        signing_key = jwks_client(audience.jwks_url).get_signing_key(str(header.get("kid", "")))
    except jwt.PyJWKClientConnectionError:
        logger.warning("could not fetch the issuer's JWKS")
        raise TokenError("The access token cannot be verified right now") from None
    except jwt.PyJWKClientError:
        raise TokenError("The access token's signing key is unknown") from None
    try:
        claims = jwt.decode(
            token,
            key=signing_key.key,
            algorithms=[str(algorithm)],
            audience=audience.audience,
            issuer=audience.issuer,
            leeway=settings.WALLET_TOKEN_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"], "strict_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The access token expired") from None
    except jwt.InvalidAudienceError:
        raise TokenError("The access token is not meant for this API") from None
    except jwt.InvalidIssuerError:
        raise TokenError("The access token comes from an unknown issuer") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("The access token is not valid yet") from None
    except jwt.PyJWTError:
        raise TokenError("The access token is invalid") from None
    try:
        token_times_check(claims, token_name="access token")
    except TokenTimesError as exc:
        raise TokenError(str(exc)) from None

    client_id = claims.get("client_id") or claims.get("azp")
    if not isinstance(client_id, str) or not client_id:
        raise TokenError("The access token names no client")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise TokenError("The access token names no subject")
    scopes = frozenset(str(claims.get("scope", "")).split())
    if required_scope and required_scope not in scopes:
        raise InsufficientScope(f"The access token lacks the scope {required_scope!r}")
    loa = claims.get("loa")
    return AccessToken(
        issuer=claims["iss"],
        subject=claims["sub"],
        client_id=client_id,
        scopes=scopes,
        loa=loa if isinstance(loa, str) else None,
        claims=claims,
    )


def first_sight_claims(access_token: AccessToken, *, token: str) -> Mapping[str, Any]:
    """Claims to start the profile of a citizen first seen through the API (never asked again
    for a known citizen, so never per request).

    With OIDC_CLAIMS_SOURCE `userinfo` (and a userinfo endpoint) the provider's userinfo is
    asked once with the caller's access token: a standard provider puts no names or email in
    its access tokens. If userinfo refuses the token, fails or answers about someone else, the
    token's own claims are used (with a standard provider: none, so the profile stays empty
    until a browser login); the request goes on either way. With `token`, only the token's
    claims are used.
    """
    if not userinfo.userinfo_wanted():
        return access_token.claims
    try:
        claims = userinfo.userinfo_fetch(access_token=token)
    except userinfo.UserinfoRefused as exc:
        logger.info("userinfo refused a new citizen's access token (HTTP %s)", exc.status)
        return access_token.claims
    except userinfo.UserinfoFailed as exc:
        logger.warning("userinfo for a new citizen failed (%s); profile from the token", exc)
        return access_token.claims
    if claims.get("sub") != access_token.subject:
        logger.warning("userinfo answered about another subject; profile from the token")
        return access_token.claims
    return claims


def www_authenticate(error: TokenError) -> str:
    description = str(error).replace('"', "'")
    value = (
        f'Bearer realm="oma-helsinki-wallet", error="{error.error}", '
        f'error_description="{description}"'
    )
    if isinstance(error, InsufficientScope) and settings.WALLET_API_SCOPE:
        value += f', scope="{settings.WALLET_API_SCOPE}"'
    return value
