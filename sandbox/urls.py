from django.urls import include, path

urlpatterns = [
    path("idp/", include("sandbox.idp.urls")),
    path("youth/", include("sandbox.youth.urls")),
]
