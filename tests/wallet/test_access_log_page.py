"""The access log page: who read what, when, under which consent; newest first, a page at a
time; the citizen's own entries only."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from consent.demo import demo_services_seed
from consent.selectors import service_cache_clear
from tests.consent.test_queries import _citizen, _consent, _read
from tests.factories import CitizenFactory
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db(databases="__all__")

ROW = re.compile(r"<tr>\s*<td><time")


@pytest.fixture
def service():
    service_cache_clear()
    return demo_services_seed()[0]


def _browser(citizen, language="en"):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(citizen)
    return browser


def _reads(service, citizen, count):
    consent = _consent(citizen, service)
    for _ in range(count):
        _read(service, consent)
    return consent


@pytest.mark.parametrize(
    ("language", "heading", "label", "name"),
    [
        ("fi", "Käyttöloki", "Sähköposti", "Nuorisotalon varaukset"),
        ("sv", "Åtkomstlogg", "E-post", "Ungdomsgårdens bokningar"),
        ("en", "Access log", "Email", "Youth centre bookings"),
    ],
)
def test_the_log_shows_each_read_in_the_citizens_language(service, language, heading, label, name):
    citizen = _citizen()
    consent = _reads(service, citizen, 1)

    page = _browser(citizen, language).get("/log/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in text and f"<h1>{heading}</h1>" in text
    assert name in text  # the service's name as it was at the read, in the page's language
    assert label in text  # the fields by their catalogue labels
    assert f"<code>{str(consent.pk)[:8]}</code>" in text  # under which consent
    assert "no-store" in page["Cache-Control"]
    assert len(ROW.findall(text)) == 1


def test_the_log_pages_back_through_older_reads(service):
    citizen = _citizen()
    _reads(service, citizen, 25)
    browser = _browser(citizen)

    first = browser.get("/log/").content.decode()
    assert len(ROW.findall(first)) == 20
    [older] = re.findall(r'rel="next" href="([^"]+)"', first)
    assert parse_qs(urlsplit(older).query)["before"] == ["6"]  # seq 25 down to 6 shown

    second = browser.get(older.replace("&amp;", "&")).content.decode()
    assert len(ROW.findall(second)) == 5
    assert 'rel="next"' not in second and 'href="/log/"' in second


def test_a_malformed_cursor_shows_the_newest_page(service):
    citizen = _citizen()
    _reads(service, citizen, 2)
    text = _browser(citizen).get("/log/?before=x").content.decode()
    assert len(ROW.findall(text)) == 2


@pytest.mark.parametrize("reads", [3, 25])
def test_log_page_queries_are_constant(service, reads):
    citizen = _citizen()
    _reads(service, citizen, reads)
    browser = _browser(citizen)

    # 1 session, 1 citizen, 1 page of entries; 1 data key
    with assert_num_queries(default=3, keys=1):
        page = browser.get("/log/")
    assert len(ROW.findall(page.content.decode())) == min(reads, 20)


def test_another_citizen_sees_none_of_the_entries(service):
    owner = _citizen()
    consent = _reads(service, owner, 2)
    other = CitizenFactory()

    text = _browser(other).get("/log/").content.decode()
    assert "No service has read your data yet." in text
    assert "Youth centre bookings" not in text and str(consent.pk)[:8] not in text
    assert "q@example.com" not in text


def test_a_visitor_is_sent_to_sign_in_and_back():
    response = Client().get("/log/?before=5")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/oidc/authenticate/"
    assert parse_qs(location.query)["next"] == ["/log/?before=5"]


def test_the_log_is_in_the_navigation(service):
    text = _browser(_citizen()).get("/log/").content.decode()
    assert 'href="/log/" aria-current="page"' in text


def test_an_entry_from_before_the_names_were_kept_shows_the_english_name(service):
    from wallet.pages import _service_name

    assert _service_name({"slug": "demo", "name": "Youth centre bookings"}) == (
        "Youth centre bookings"
    )
    assert _service_name({"slug": "demo"}) == "demo"
