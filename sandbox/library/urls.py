from django.urls import path

from sandbox.library import views

# Sierra's paths have no trailing slash.
urlpatterns = [
    path("token", views.token, name="library-token"),
    path("patrons", views.patron_list, name="library-patrons"),
    path("patrons/validate", views.patron_validate, name="library-patron-validate"),
    path("patrons/find", views.patron_find, name="library-patron-find"),
    path("patrons/<int:patron_id>", views.patron_detail, name="library-patron"),
    path("patrons/<int:patron_id>/checkouts", views.patron_checkouts, name="library-checkouts"),
    path("patrons/<int:patron_id>/holds", views.patron_holds, name="library-holds"),
    path("patrons/<int:patron_id>/fines", views.patron_fines, name="library-fines"),
]
