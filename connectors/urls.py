"""The connectors' pages, mounted by the composition root (wallet.urls): the staff's syncs."""

from django.urls import path

from connectors import views

urlpatterns = [
    path("staff/syncs/", views.sync_dashboard, name="sync-dashboard"),
    path("staff/syncs/start/", views.sync_now, name="sync-now"),
    path("staff/syncs/runs/<uuid:run_id>/", views.sync_run, name="sync-run"),
    path(
        "staff/syncs/runs/<uuid:run_id>/progress/",
        views.sync_run_progress,
        name="sync-run-progress",
    ),
]
