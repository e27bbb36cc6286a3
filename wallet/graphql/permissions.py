"""Permissions declared on fields and mutations, not checked by hand in resolver bodies."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from wallet.auth.principal import Principal
from wallet.graphql.errors import ApiError, ErrorCode


def principal_of(info: Any) -> Principal | None:
    return getattr(info.context, "principal", None)


def citizen_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """The field answers only a signed-in citizen (browser session or citizen bearer token)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if principal_of(info) is None:
            raise ApiError("Sign in to see this.", ErrorCode.UNAUTHENTICATED)
        return resolver(root, info, *args, **kwargs)

    return wrapper


def staff_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """The field answers only an admin (staff, from the provider's role claim)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        principal = principal_of(info)
        if principal is None:
            raise ApiError("Sign in to see this.", ErrorCode.UNAUTHENTICATED)
        if not principal.is_staff:
            raise ApiError("This is for the wallet's administrators.", ErrorCode.PERMISSION_DENIED)
        return resolver(root, info, *args, **kwargs)

    return wrapper
