"""The consent app's pages, mounted by the composition root (wallet.urls)."""

from django.urls import path

from consent import views

urlpatterns = [
    path("consent/<str:request_id>/", views.consent_request_page, name="consent-request"),
    path("consent-requests/", views.consent_requests, name="consent-requests"),
    path(
        "consent-requests/<str:request_id>/answer/",
        views.consent_request_answer,
        name="consent-request-answer",
    ),
    path("consents/", views.consents, name="consents"),
    path("consents/<uuid:consent_id>/withdraw/", views.consent_withdraw, name="consent-withdraw"),
    path("consents/<uuid:consent_id>/receipt/", views.consent_receipt, name="consent-receipt"),
    path("consents/<uuid:consent_id>/record.json", views.consent_record, name="consent-record"),
]
