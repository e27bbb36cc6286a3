from django.contrib import admin
from django.urls import include, path

from wallet import views
from wallet.graphql.view import WalletGraphQLView

urlpatterns = [
    path("", views.home, name="home"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("graphql/", WalletGraphQLView.as_view(), name="graphql"),
    path("admin/", admin.site.urls),
]
