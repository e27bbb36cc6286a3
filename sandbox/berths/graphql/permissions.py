"""Field-level permissions, like the real service's ``login_required`` and
``view_permission_required`` decorators."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from sandbox.bearer import TokenCheck, TokenFailure
from sandbox.berths.graphql.errors import (
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    TOKEN_EXPIRED,
    BerthServiceError,
)

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def token_check(info: GraphQLResolveInfo) -> TokenCheck:
    check: TokenCheck = info.context.berths_token
    if check.failure == TokenFailure.EXPIRED:
        raise BerthServiceError(TOKEN_EXPIRED)
    if check.failure is not None:
        raise BerthServiceError(NOT_AUTHENTICATED)
    return check


def token_required(resolver: Resolver) -> Resolver:
    """Any valid token for the berth service (a citizen's or a service account's)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        token_check(info)
        return resolver(root, info, **kwargs)

    return wrapper  # type: ignore[return-value]


def service_required(resolver: Resolver) -> Resolver:
    """A service-account token: listing every lease is for the city's systems only."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        if not token_check(info).is_service:
            raise BerthServiceError(PERMISSION_DENIED)
        return resolver(root, info, **kwargs)

    return wrapper  # type: ignore[return-value]
