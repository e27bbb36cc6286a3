"""The pages' language: Finnish by default, the browser's or the cookie's, the citizen's own."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_front_page_is_finnish_by_default_with_lang_set():
    page = Client().get("/")
    text = page.content.decode()
    assert '<html lang="fi">' in text and "Kirjaudu sisään" in text
    assert page["Content-Language"] == "fi"
    assert "Accept-Language" in page["Vary"]


@pytest.mark.parametrize(
    ("accept", "lang", "text"),
    [("sv", "sv", "Logga in"), ("en-GB,en;q=0.9", "en", "Sign in"), ("de", "fi", "Kirjaudu")],
)
def test_the_browser_language_is_followed_when_supported(accept, lang, text):
    page = Client(HTTP_ACCEPT_LANGUAGE=accept).get("/").content.decode()
    assert f'<html lang="{lang}">' in page and text in page


def test_the_switcher_remembers_the_choice_on_the_account_across_browsers():
    citizen = CitizenFactory()
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(citizen)
    switched = browser.post("/language/", {"language": "sv", "next": "/"})
    assert switched.status_code == 302 and switched["Location"] == "/"
    assert switched.cookies["wallet_language"].value == "sv"
    assert switched.cookies["wallet_language"]["httponly"]
    citizen.refresh_from_db()
    assert citizen.language == "sv"

    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en")  # no cookie, an English browser
    other_browser.force_login(citizen)
    assert '<html lang="sv">' in other_browser.get("/").content.decode()


def test_the_switcher_refuses_unknown_languages_and_foreign_next_urls():
    browser = Client()
    answer = browser.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert "wallet_language" not in answer.cookies


def test_the_switcher_needs_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/language/", {"language": "sv"}).status_code == 403


def test_signed_in_pages_are_never_stored_and_show_the_navigation():
    browser = Client()
    browser.force_login(CitizenFactory())
    page = browser.get("/")
    assert "no-store" in page["Cache-Control"]
    assert 'aria-current="page"' in page.content.decode()
    assert Client().get("/.well-known/jwks.json")["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize(
    ("language", "date", "when", "amount", "yes"),
    [
        ("fi", "14.5.2011", "2.12.2026 5.41", "1\xa0234,50", "Kyllä"),
        ("sv", "2011-05-14", "2026-12-02 05:41", "1\xa0234,50", "Ja"),
        ("en", "14 May 2011", "2 Dec 2026, 05:41", "1,234.50", "Yes"),
    ],
)
def test_values_are_shown_in_the_locales_format(language, date, when, amount, yes):
    from django.utils import translation

    from wallet.catalogue import CatalogueField, Labels, ValueType
    from wallet.display import display_value

    def field(value_type):
        return CatalogueField("x", Labels("x", "x", "x"), value_type)

    with translation.override(language):
        assert display_value(field(ValueType.DATE), "2011-05-14") == date
        assert display_value(field(ValueType.DATETIME), "2026-12-02T03:41:00+00:00") == when
        assert display_value(field(ValueType.DECIMAL), "1234.5") == amount
        assert display_value(field(ValueType.BOOLEAN), True) == yes
        # what does not parse as its type is shown as sent, never an error
        assert display_value(field(ValueType.DATE), "someday") == "someday"


def test_a_choice_is_shown_by_its_label_in_the_pages_language():
    from django.utils import translation

    from connectors.youth.catalogue import MEMBERSHIP
    from wallet.display import display_value

    status = MEMBERSHIP.field("status")
    with translation.override("fi"):
        assert display_value(status, "ACTIVE") == "Voimassa"
    with translation.override("sv"):
        assert display_value(status, "EXPIRED") == "Utgånget"
    with translation.override("en"):
        assert display_value(status, "PENDING") == "Waiting for approval"
        assert display_value(status, "UNKNOWN_NEW_VALUE") == "UNKNOWN_NEW_VALUE"  # as sent
