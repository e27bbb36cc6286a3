"""Field-level permissions, like the real service's ``login_required`` / ``staff_required``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from sandbox.bearer import TokenCheck, TokenFailure
from sandbox.youth.graphql.errors import (
    PERMISSION_DENIED_ERROR,
    TOKEN_EXPIRED_ERROR,
    YouthServiceError,
)

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def _token_check(info: GraphQLResolveInfo) -> TokenCheck:
    check: TokenCheck = info.context.youth_token
    if check.failure == TokenFailure.EXPIRED:
        raise YouthServiceError(TOKEN_EXPIRED_ERROR)
    if check.failure is not None:  # the real service does not tell missing from invalid
        raise YouthServiceError(PERMISSION_DENIED_ERROR)
    return check


def token_required(resolver: Resolver) -> Resolver:
    """Any valid token for the youth service (a citizen's or a service account's)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        _token_check(info)
        return resolver(root, info, **kwargs)

    return wrapper  # type: ignore[return-value]


def service_required(resolver: Resolver) -> Resolver:
    """A service-account token: listing every member is for the city's systems only."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        if not _token_check(info).is_service:
            raise YouthServiceError(PERMISSION_DENIED_ERROR)
        return resolver(root, info, **kwargs)

    return wrapper  # type: ignore[return-value]
