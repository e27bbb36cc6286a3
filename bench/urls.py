"""The wallet's URLs plus the benchmarks' baseline views (`bench.settings` only)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from wallet.auth import bearer
from wallet.urls import urlpatterns as wallet_urlpatterns


def token_echo(request: HttpRequest) -> HttpResponse:
    """The baseline of `bench/consent.py`: the bearer token checked by the wallet's own validator
    (signature, type, claims, scope), then a small JSON body. No database."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        access_token = bearer.access_token_validate(
            token.strip(), required_scope=settings.WALLET_API_SCOPE
        )
    except bearer.TokenError as error:
        return JsonResponse({"error": error.error}, status=error.status)
    return JsonResponse({"clientId": access_token.client_id, "scopes": sorted(access_token.scopes)})


urlpatterns = [*wallet_urlpatterns, path("bench/token-echo/", token_echo)]
