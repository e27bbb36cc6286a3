"""Claims about users and service accounts, shared by ID tokens, userinfo and access tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from sandbox.idp.models import User


def user_claims(user: User) -> dict[str, Any]:
    """Identity claims of a citizen; ``sub`` is the profile UUID, never a database integer."""
    return {
        "sub": str(user.pk),
        "given_name": user.first_name,
        "family_name": user.last_name,
        "email": user.email,
        "loa": user.loa,
        "roles": list(user.roles),
    }


def service_account_sub(*, issuer: str, client_id: str) -> str:
    """Stable ``sub`` of a client-credentials token (a client's service account)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/service-account/{client_id}"))


def audience_for_scopes(scopes: Iterable[str]) -> list[str]:
    """Resource servers named by the scopes, in the order of ``settings.SCOPE_AUDIENCES``."""
    wanted = set(scopes)
    return [aud for scope, aud in settings.SCOPE_AUDIENCES.items() if scope in wanted]
