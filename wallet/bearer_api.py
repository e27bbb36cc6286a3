"""Bearer-token API calls skip the middleware that exists for browsers.

A request with an `Authorization` header to a view marked `bearer_api` (the GraphQL endpoint)
is an API call: the view authenticates the token itself, ignores cookies and is CSRF-exempt
(wallet/graphql/view.py). The middleware listed after this one in settings.MIDDLEWARE serve
browsers: the session and its user, CSRF, the sign-in's silent renewal, messages, the pages'
Content-Security-Policy and frame options. For an API call they do nothing, at a fifth of a
consented read's CPU in the process (docs/benchmarks.md). So this middleware, placed after those
every request needs (security headers, the key scope), hands such a call to its view with only
the language middleware around it, and gives the response the headers a JSON answer needs. Any
other request, and a call whose path is no such view, goes down the whole chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, set_urlconf

from wallet.i18n import language_middleware

# A JSON answer loads nothing and is framed by no one.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


def bearer_api(view: Any) -> Any:
    """Mark a view (a function, or a class-based view's class) as a bearer API endpoint."""
    view.bearer_api = True
    return view


def _is_bearer_api(view: Callable[..., Any]) -> bool:
    return bool(
        getattr(view, "bearer_api", False)
        or getattr(getattr(view, "view_class", None), "bearer_api", False)
    )


def bearer_api_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """Bearer calls to `bearer_api` views go straight to the view (see the module's doc)."""

    def view_called(request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        assert match is not None
        response: HttpResponse | None = match.func(request, *match.args, **match.kwargs)
        if response is None:
            raise ValueError(f"the view {match.view_name} returned None")
        return response

    api_call = language_middleware(view_called)

    def middleware(request: HttpRequest) -> HttpResponse:
        if "Authorization" not in request.headers:
            return get_response(request)
        urlconf = getattr(request, "urlconf", None)
        if urlconf is not None:
            set_urlconf(urlconf)
        try:
            match = get_resolver(urlconf).resolve(request.path_info)
        except Resolver404:
            return get_response(request)
        if not _is_bearer_api(match.func):
            return get_response(request)
        request.resolver_match = match
        request.user = AnonymousUser()  # the view sets the citizen a token speaks for
        response = api_call(request)
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
        return response

    return middleware
