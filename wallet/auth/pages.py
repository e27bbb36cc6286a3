"""The citizen's pages: who is asking, or off to sign in first and back after."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from wallet.auth.principal import Principal, principal_from_session

CitizenView = Callable[..., HttpResponse]


def sign_in_redirect(request: HttpRequest) -> HttpResponse:
    login = reverse("oidc_authentication_init")
    return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")


def citizen_page(view: CitizenView) -> Callable[..., HttpResponse]:
    """The view gets the signed-in citizen's `Principal` as its second argument; anyone else
    is sent to sign in and brought back to the same page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        principal: Principal | None = principal_from_session(request)
        if principal is None:
            return sign_in_redirect(request)
        return view(request, principal, *args, **kwargs)

    return wrapper
