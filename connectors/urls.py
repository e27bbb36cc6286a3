"""The connectors' pages, mounted by the composition root (wallet.urls)."""

from django.urls import path

from connectors import pages

urlpatterns = [
    path("refresh/", pages.refresh, name="refresh"),
    path("refresh/status/", pages.refresh_status, name="refresh-status"),
    path("library/link/", pages.library_link, name="library-link"),
]
