"""The connectors' pages, mounted by the composition root (wallet.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
