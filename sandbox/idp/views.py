"""The provider's userinfo endpoint, with the strict mode of a certified provider."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import UserInfoView

_dot_userinfo = UserInfoView.as_view()


@csrf_exempt
def userinfo(request: HttpRequest) -> HttpResponse:
    """DOT's userinfo; in strict mode (settings.IDP_STRICT) a JWT access token is refused the way
    a certified provider refuses one by default (RFC 6750 `invalid_token`)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if settings.IDP_STRICT and scheme.lower() == "bearer" and token.strip().count(".") == 2:
        response = JsonResponse(
            {
                "error": "invalid_token",
                "error_description": "JWT access tokens are not accepted at userinfo",
            },
            status=401,
        )
        response["WWW-Authenticate"] = (
            'Bearer error="invalid_token", '
            'error_description="JWT access tokens are not accepted at userinfo"'
        )
        return response
    return _dot_userinfo(request)
