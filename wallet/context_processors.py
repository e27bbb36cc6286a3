"""What every page's layout needs: the navigation and the languages to switch to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from wallet import hooks


def page(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    nav = []
    if signed_in:
        for item in hooks.nav_items(is_staff=bool(user.is_staff)):  # type: ignore[union-attr]
            url = reverse(item.url_name)
            current = request.path == url or (url != "/" and request.path.startswith(url))
            nav.append({"url": url, "label": item.label, "current": current})
    return {
        "nav": nav,
        "signed_in": signed_in,
        "languages": settings.LANGUAGES,
        "current_path": request.get_full_path(),
    }
