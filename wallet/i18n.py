"""The pages' language: Finnish by default, Swedish and English too.

A signed-in citizen's choice is kept on their account (`Citizen.language`), so it follows them
to another browser; before they choose, and for visitors, the language cookie or the browser's
Accept-Language decides, else Finnish. Text from the field catalogue comes in all three
(`catalogue.Labels`); `localized` picks the current one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from wallet.catalogue import Labels

LANGUAGE_CODES = [code for code, _ in settings.LANGUAGES]


def localized(labels: Labels, language: str | None = None) -> str:
    """The text of `labels` in `language` (default: the active one), Finnish if unknown."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return str(getattr(labels, code if code in LANGUAGE_CODES else "fi"))


def _signed_in_choice(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    language = getattr(user, "language", "")
    return language if language in LANGUAGE_CODES else None


def language_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """Activate the page's language for the request (after authentication)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        language = _signed_in_choice(request) or translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response

    return middleware


def no_store_for_signed_in_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """A signed-in person's pages hold their data: never kept by a browser cache or a proxy."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher's form: Django's own view (the cookie, a safe way back), and the
    choice kept on the account when someone is signed in."""
    response = set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if language in LANGUAGE_CODES and user.is_authenticated and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response
