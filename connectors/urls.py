"""The connectors' pages, mounted by the composition root (wallet.urls): the citizen's
(connectors.pages) and the staff's sync dashboard (connectors.views)."""

from django.urls import path

from connectors import pages, views

urlpatterns = [
    path("refresh/", pages.refresh, name="refresh"),
    path("refresh/status/", pages.refresh_status, name="refresh-status"),
    path("library/link/", pages.library_link, name="library-link"),
    path("staff/syncs/", views.sync_dashboard, name="sync-dashboard"),
    path("staff/syncs/start/", views.sync_now, name="sync-now"),
    path("staff/syncs/runs/<uuid:run_id>/", views.sync_run, name="sync-run"),
    path(
        "staff/syncs/runs/<uuid:run_id>/progress/",
        views.sync_run_progress,
        name="sync-run-progress",
    ),
]
