from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as dot_urls

from sandbox.idp import views

# Only the protocol endpoints: no application-management or dynamic-registration pages.
oauth2_patterns = (dot_urls.base_urlpatterns + dot_urls.oidc_urlpatterns, "oauth2_provider")

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="idp/login.html"),
        name="idp-login",
    ),
    # Before DOT's own: the same path, refusing JWT access tokens in strict mode.
    path("userinfo/", views.userinfo, name="idp-userinfo"),
    # /idp/logout/ is DOT's RP-initiated logout view (the discovery end_session_endpoint).
    path("", include(oauth2_patterns)),
]
