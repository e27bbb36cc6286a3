"""The consent app's pages, mounted by the composition root (wallet.urls)."""

from django.urls import path

from consent.views import consent_request_page

urlpatterns = [
    path("consent/<str:request_id>/", consent_request_page, name="consent-request"),
]
