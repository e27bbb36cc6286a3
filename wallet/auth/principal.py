"""Who is asking: the one thing GraphQL permissions look at."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.http import HttpRequest

from wallet.assurance import loa_at_least
from wallet.auth.bearer import AccessToken
from wallet.auth.oidc import SESSION_LOA_KEY
from wallet.models import Citizen


class Via(StrEnum):
    SESSION = "session"
    BEARER = "bearer"


@dataclass(frozen=True)
class Principal:
    citizen: Citizen
    loa: str | None
    via: Via
    client_id: str | None = None

    def loa_at_least(self, level: str) -> bool:
        return loa_at_least(self.loa, level)


def principal_from_session(request: HttpRequest) -> Principal | None:
    user = request.user
    if not user.is_authenticated or not isinstance(user, Citizen):
        return None
    return Principal(citizen=user, loa=request.session.get(SESSION_LOA_KEY), via=Via.SESSION)


def principal_from_token(token: AccessToken, citizen: Citizen) -> Principal:
    return Principal(citizen=citizen, loa=token.loa, via=Via.BEARER, client_id=token.client_id)
