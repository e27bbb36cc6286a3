from django.urls import include, path

from sandbox import views

urlpatterns = [
    path("", views.index, name="sandbox-index"),
    path("idp/", include("sandbox.idp.urls")),
    path("youth/", include("sandbox.youth.urls")),
]
