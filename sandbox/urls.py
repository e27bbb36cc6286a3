from django.urls import include, path

from sandbox import views

urlpatterns = [
    path("", views.index, name="sandbox-index"),
    path("_faults/", views.faults, name="sandbox-faults"),
    path("_traffic/", views.traffic_counts, name="sandbox-traffic"),
    path("idp/", include("sandbox.idp.urls")),
    path("youth/", include("sandbox.youth.urls")),
    path("berths/", include("sandbox.berths.urls")),
    path("library/iii/sierra-api/v6/", include("sandbox.library.urls")),
]
