"""The wallet's URLs.

Composition root (with wallet.settings, wallet.schema, wallet.celery, wallet.wsgi): it mounts the
apps' views next to the core's. The rest of `wallet` is the core and imports no app
(pyproject.toml, [tool.importlinter]).
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from wallet import gdpr_api, i18n, pages, views
from wallet.graphql.view import WalletGraphQLView


def admin_login(request: HttpRequest) -> HttpResponse:
    """Admins sign in through the city's provider (the role claim makes them staff); Django's
    own password login is not used."""
    if request.user.is_authenticated and not request.user.is_staff:
        # Signed in, but the provider gave no admin role: sending them to log in again would loop.
        return HttpResponseForbidden("You are signed in, but not as an administrator.")
    next_url = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/admin/"
    return redirect(f"{reverse('oidc_authentication_init')}?{urlencode({'next': next_url})}")


urlpatterns = [
    path("admin/login/", admin_login),
    path("", views.home, name="home"),
    path("language/", i18n.language_set, name="language-set"),
    path("profile/", views.profile_edit, name="profile"),
    path("erase/", views.erase, name="erase"),
    path("erased/", views.erased, name="erased"),
    path("log/", pages.access_log_view, name="access-log"),
    path("processing/", views.processing_record_view, name="processing"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("export/", views.export_download, name="export-download"),
    path("export/schema/v<int:version>.json", views.export_schema, name="export-schema"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("graphql/", WalletGraphQLView.as_view(), name="graphql"),
    path("gdpr-api/v1/profiles/<uuid:profile_id>", gdpr_api.gdpr_profile, name="gdpr-profile"),
    path("gdpr-api/v1/profiles/<path:rest>", gdpr_api.gdpr_not_a_profile),
    path("", include("consent.urls")),
    path("", include("connectors.urls")),
    path("admin/", admin.site.urls),
]
