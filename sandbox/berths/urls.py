from django.urls import path

from sandbox.berths.views import graphql_view

urlpatterns = [
    path("graphql/", graphql_view, name="berths-graphql"),
]
