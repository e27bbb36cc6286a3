from django.urls import path

from sandbox.youth.views import graphql_view

urlpatterns = [
    path("graphql/", graphql_view, name="youth-graphql"),
]
