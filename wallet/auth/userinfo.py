"""The provider's userinfo endpoint, asked with a citizen's access token.

Used at browser login and once for a citizen first seen through the API, never per request.
Whether it is asked at all is a setting, OIDC_CLAIMS_SOURCE:
- `userinfo` (default): ask it; a refusal (401/403, as a certified provider answers a JWT access
  token by default) means the claims come from the tokens instead;
- `token`: never ask it; the claims come from the verified ID token at login and from the access
  token for a citizen first seen through the API.
An empty OIDC_OP_USER_ENDPOINT means `token` too.

Errors carry only an HTTP status or an exception's type: never the answer, which may hold
personal data.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

CLAIMS_FROM_USERINFO = "userinfo"
CLAIMS_FROM_TOKEN = "token"
CLAIMS_SOURCES = (CLAIMS_FROM_USERINFO, CLAIMS_FROM_TOKEN)


class UserinfoRefused(Exception):
    """The provider refused the access token at userinfo (HTTP 401 or 403)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class UserinfoFailed(Exception):
    """Userinfo did not answer usefully: unreachable, timed out, 5xx, not a JSON object. The
    message is safe to log."""


def userinfo_wanted() -> bool:
    return settings.OIDC_CLAIMS_SOURCE == CLAIMS_FROM_USERINFO and bool(
        settings.OIDC_OP_USER_ENDPOINT
    )


def userinfo_fetch(*, access_token: str) -> dict[str, Any]:
    """The userinfo claims for this access token; the caller checks `sub`."""
    try:
        response = httpx.get(
            settings.OIDC_OP_USER_ENDPOINT,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=settings.OIDC_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise UserinfoFailed(type(exc).__name__) from None
    if response.status_code in (401, 403):
        raise UserinfoRefused(response.status_code)
    if response.status_code != 200:
        raise UserinfoFailed(f"HTTP {response.status_code}")
    try:
        claims = response.json()
    except ValueError:  # a signed (application/jwt) answer too: the wallet never asks for one
        raise UserinfoFailed("answer is not JSON") from None
    if not isinstance(claims, dict):
        raise UserinfoFailed("answer is not a JSON object")
    return claims
