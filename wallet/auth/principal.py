"""Who is asking: the one thing GraphQL permissions look at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wallet.assurance import loa_at_least
from wallet.auth.bearer import AccessToken
from wallet.models import Citizen

# The browser session remembers the level of assurance of the login here.
SESSION_LOA_KEY = "wallet_loa"


class Via(StrEnum):
    SESSION = "session"
    BEARER = "bearer"


@dataclass(frozen=True)
class Principal:
    citizen: Citizen
    loa: str | None
    via: Via
    client_id: str | None = None
    token_roles: frozenset[str] = frozenset()

    @property
    def is_staff(self) -> bool:
        """Staff by the role claim: remembered from the browser login, or in the bearer token."""
        return self.citizen.is_staff or settings.WALLET_ADMIN_ROLE in self.token_roles

    def loa_at_least(self, level: str) -> bool:
        return loa_at_least(self.loa, level)


@dataclass(frozen=True)
class ServicePrincipal:
    """A registered service calling with its own client-credentials token. It never speaks for a
    citizen: citizen fields refuse it, and it reads only what consents allow."""

    service: Any  # consent.models.Service (the wallet core does not import the consent app)
    client_id: str


# Set by the consent app when it loads: client id -> registered service, or None.
_service_lookup: Callable[[str], Any] | None = None


def register_service_lookup(lookup: Callable[[str], Any]) -> None:
    global _service_lookup
    _service_lookup = lookup


def service_for_client(client_id: str) -> Any:
    return _service_lookup(client_id) if _service_lookup is not None else None


def principal_from_session(request: HttpRequest) -> Principal | None:
    user = request.user
    if not user.is_authenticated or not isinstance(user, Citizen):
        return None
    return Principal(citizen=user, loa=request.session.get(SESSION_LOA_KEY), via=Via.SESSION)


def principal_from_token(token: AccessToken, citizen: Citizen) -> Principal:
    return Principal(
        citizen=citizen,
        loa=token.loa,
        via=Via.BEARER,
        client_id=token.client_id,
        token_roles=roles_in(token.claims),
    )


def roles_in(claims: dict[str, Any]) -> frozenset[str]:
    roles = claims.get(settings.WALLET_ADMIN_ROLE_CLAIM)
    if isinstance(roles, str):
        return frozenset(roles.split())
    if isinstance(roles, list):
        return frozenset(r for r in roles if isinstance(r, str))
    return frozenset()
