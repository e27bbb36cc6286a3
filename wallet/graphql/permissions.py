"""Permissions declared on fields and mutations, not checked by hand in resolver bodies."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from wallet.auth.principal import Principal, ServicePrincipal
from wallet.graphql.errors import ApiError, ErrorCode


def principal_of(info: Any) -> Principal | None:
    """Who is asking; None also once their data was erased earlier in the same request."""
    principal: Principal | None = getattr(info.context, "principal", None)
    if principal is not None and not principal.citizen.is_active:
        return None
    return principal


def service_of(info: Any) -> ServicePrincipal | None:
    return getattr(info.context, "service_principal", None)


def citizen_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """The field answers only a signed-in citizen (browser session or citizen bearer token)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if principal_of(info) is None:
            if service_of(info) is not None:
                raise ApiError("This is for citizens, not services.", ErrorCode.PERMISSION_DENIED)
            raise ApiError("Sign in to see this.", ErrorCode.UNAUTHENTICATED)
        return resolver(root, info, *args, **kwargs)

    return wrapper


def service_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """The field answers only a registered service calling with its own token."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if service_of(info) is None:
            if principal_of(info) is not None:
                raise ApiError(
                    "This is for registered services, not citizens.", ErrorCode.PERMISSION_DENIED
                )
            raise ApiError("Call with your service's access token.", ErrorCode.UNAUTHENTICATED)
        return resolver(root, info, *args, **kwargs)

    return wrapper


def staff_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    """The field answers only an admin (staff, from the provider's role claim)."""

    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        principal = principal_of(info)
        if principal is None:
            if service_of(info) is not None:
                raise ApiError(
                    "This is for the wallet's administrators.", ErrorCode.PERMISSION_DENIED
                )
            raise ApiError("Sign in to see this.", ErrorCode.UNAUTHENTICATED)
        if not principal.is_staff:
            raise ApiError("This is for the wallet's administrators.", ErrorCode.PERMISSION_DENIED)
        return resolver(root, info, *args, **kwargs)

    return wrapper
