"""The citizen corrects their profile on its page: validation, provenance, languages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CitizenFactory
from wallet import services
from wallet.selectors import citizen_wallet

pytestmark = pytest.mark.django_db(databases="__all__")


def _signed_in(language="en"):
    citizen = CitizenFactory()
    services.profile_update_from_claims(
        citizen=citizen, claims={"given_name": "Aino", "email": "aino@example.com"}
    )
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(citizen)
    return citizen, browser


def test_the_page_shows_each_value_and_where_it_came_from():
    _, browser = _signed_in()
    page = browser.get("/profile/").content.decode()
    assert 'value="Aino"' in page and "From your Helsinki login" in page
    assert "Not given" in page  # the phone, never given
    assert 'autocomplete="given-name"' in page


def test_a_correction_is_the_citizens_own_and_survives_the_next_login():
    citizen, browser = _signed_in()
    answer = browser.post(
        "/profile/",
        {"first_name": "Aino-Maria", "email": "aino@example.com", "phone": "+358 40 123 4567"},
        follow=True,
    )
    assert answer.redirect_chain == [("/profile/", 302)]
    assert "Your changes were saved." in answer.content.decode()
    services.profile_update_from_claims(citizen=citizen, claims={"given_name": "Aino"})
    profile = citizen_wallet(citizen=citizen).profile
    assert profile["first_name"].value == "Aino-Maria" and profile["first_name"].source == "citizen"
    assert profile["phone"].value == "+358 40 123 4567"
    # unchanged values keep their origin
    assert profile["email"].source == "oidc"


def test_an_emptied_field_is_removed():
    citizen, browser = _signed_in()
    browser.post("/profile/", {"first_name": "", "email": "aino@example.com"})
    assert "first_name" not in citizen_wallet(citizen=citizen).profile


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter an email address like name@example.com."),
        ({"phone": "call me"}, "phone", "Enter a phone number with digits only"),
        ({"first_name": "x" * 101}, "first_name", "Shorten this to at most 100 characters."),
        ({"nickname": "two\nlines"}, "nickname", "Remove the line breaks"),
        ({"preferred_language": "de"}, "preferred_language", "Select a valid choice"),
    ],
)
def test_invalid_input_is_explained_and_nothing_is_saved(data, field, message):
    citizen, browser = _signed_in()
    before = citizen_wallet(citizen=citizen).profile
    answer = browser.post("/profile/", {"first_name": "Aino", **data})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert message in page and f'href="#id_{field}"' in page  # the summary links to the field
    assert 'aria-invalid="true"' in page
    assert citizen_wallet(citizen=citizen).profile == before


def test_the_page_speaks_finnish_and_swedish_with_catalogue_labels():
    _, browser = _signed_in("fi")
    page = browser.get("/profile/").content.decode()
    assert '<html lang="fi">' in page and "Etunimi" in page and "Tallenna" in page
    _, browser = _signed_in("sv")
    assert "Förnamn" in browser.get("/profile/").content.decode()


def test_anonymous_people_are_sent_to_sign_in_and_back():
    answer = Client().get("/profile/")
    assert answer.status_code == 302 and "next=%2Fprofile%2F" in answer["Location"]


def test_the_form_needs_its_csrf_token():
    citizen = CitizenFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    assert browser.post("/profile/", {"first_name": "X"}).status_code == 403
