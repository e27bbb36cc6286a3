"""The service registry's admin pages: an admin registers a service, its clients and purposes."""

from __future__ import annotations

import pytest
from django.test import Client

from consent.models import Service
from consent.selectors import service_by_client_id, service_cache_clear
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def admin_browser():
    admin = CitizenFactory(is_staff=True, is_superuser=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")  # the pages are Finnish by default
    browser.force_login(admin)
    return browser


def _service_form(**overrides):
    form = {
        "slug": "library-app",
        "is_active": "on",
        "name_fi": "Kirjastosovellus",
        "name_sv": "Biblioteksappen",
        "name_en": "Library app",
        "description_fi": "",
        "description_sv": "",
        "description_en": "Loans on your phone.",
        "privacy_policy_url": "https://example.org/library-app/privacy",
        "controller_name": "Library app Ltd",
        "controller_contact": "",
        "controller_address": "Street 1, Helsinki",
        "controller_email": "privacy@example.org",
        "controller_phone": "",
        "allowed_fields": ["library.loan.due_date", "profile.email"],
        "redirect_uris": "https://library-app.example.org/consent/done",
        "clients-TOTAL_FORMS": "1",
        "clients-INITIAL_FORMS": "0",
        "clients-0-client_id": "library-app",
        "purposes-TOTAL_FORMS": "1",
        "purposes-INITIAL_FORMS": "0",
        "purposes-0-code": "due-date-reminders",
        "purposes-0-category": "Contact Requested",
        "purposes-0-description_fi": "Muistutukset",
        "purposes-0-description_sv": "Påminnelser",
        "purposes-0-description_en": "Reminders before loans are due",
    }
    form.update(overrides)
    return form


def test_admin_registers_a_service_with_its_client_and_purpose(admin_browser):
    service_cache_clear()
    assert service_by_client_id("library-app") is None  # its tokens would be refused

    page = admin_browser.get("/admin/consent/service/add/")
    assert page.status_code == 200 and b"library.loan.due_date" in page.content

    response = admin_browser.post("/admin/consent/service/add/", _service_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get(slug="library-app")
    assert service.allowed_fields == ["library.loan.due_date", "profile.email"]
    assert [p.code for p in service.purposes.all()] == ["due-date-reminders"]
    # the save cleared this process's registry cache: its tokens are the service's at once
    assert service_by_client_id("library-app") == service

    listing = admin_browser.get("/admin/consent/service/")
    assert b"library-app" in listing.content


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"redirect_uris": "not a url"}, b"Not a URL"),
        ({"redirect_uris": "https://x.example/cb#frag"}, b"fragment"),
        ({"allowed_fields": ["profile.shoe_size"]}, b"Select a valid choice"),
    ],
)
def test_admin_refuses_a_bad_registration(admin_browser, overrides, message):
    response = admin_browser.post("/admin/consent/service/add/", _service_form(**overrides))
    assert response.status_code == 200 and message in response.content
    assert not Service.objects.filter(slug="library-app").exists()


def test_non_admin_cannot_open_the_registry():
    browser = Client()
    browser.force_login(CitizenFactory())
    assert browser.get("/admin/consent/service/").status_code in (302, 403)
