"""The citizen's consent pages: pending requests, the approval page, consents given, withdrawal
and receipts; in Finnish, Swedish and English, for the signed-in citizen only."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from consent.demo import demo_services_seed
from consent.models import Consent, ConsentRequest, RequestState
from consent.selectors import approval_url, service_cache_clear
from tests.consent.test_queries import FIELDS, _ask, _citizen, _consent, _read
from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet.services import UpstreamRecord, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")

LANGUAGES = [
    ("fi", "Suostumuspyynnöt", "Suostumuksesi", "Nuorisotalon varaukset", "Sähköposti"),
    ("sv", "Samtyckesbegäranden", "Dina samtycken", "Ungdomsgårdens bokningar", "E-post"),
    ("en", "Consent requests", "Your consents", "Youth centre bookings", "Email"),
]


@pytest.fixture
def service():
    service_cache_clear()
    return demo_services_seed()[0]


def _browser(citizen, *, language="en", loa="substantial", **options):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language, **options)
    browser.force_login(citizen)
    session = browser.session
    session["wallet_loa"] = loa
    session.save()
    return browser


def _csrf(browser, path="/consents/"):
    return browser.get(path).context["csrf_token"]


def _other_citizen():
    """A second citizen with data of their own (`_citizen` keys its record on a fixed id)."""
    citizen = CitizenFactory()
    records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(
                kind="membership", external_id=str(uuid.uuid4()), payload={"status": "X"}
            )
        ],
    )
    return citizen


# Requests


@pytest.mark.parametrize(("language", "heading", "_consents", "service_name", "label"), LANGUAGES)
def test_pending_requests_show_in_the_citizens_language(
    service, language, heading, _consents, service_name, label
):
    citizen = _citizen()
    asked = _ask(service, ["profile.email", "youth.membership.birth_date"])
    _browser(citizen).get(urlsplit(approval_url(asked)).path)  # opened: now theirs

    page = _browser(citizen, language=language).get("/consent-requests/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in text
    assert f"<h1>{heading}</h1>" in text
    assert service_name in text and label in text
    assert service.privacy_policy_url in text
    assert "hds-status-label--alert" in text  # the birth date is marked sensitive
    assert f'value="refuse" aria-describedby="request-{asked.pk}"' in text  # which request
    assert "no-store" in page["Cache-Control"]


def test_approval_page_shows_in_the_citizens_language(service):
    citizen = _citizen()
    asked = _ask(service, ["profile.email"])
    path = urlsplit(approval_url(asked)).path

    text = _browser(citizen, language="sv").get(path).content.decode()
    assert '<html lang="sv">' in text
    assert "Ungdomsgårdens bokningar" in text and "Kontroll av medlemskap för bokningar" in text
    assert "E-post" in text and "Dela inte" in text
    finnish = _browser(citizen, language="fi").get(path).content.decode()
    assert "Jäsenyyden tarkistus varauksia varten" in finnish and "Sähköposti" in finnish


def test_a_weak_login_sees_the_stronger_login_notice_and_can_only_refuse(service):
    citizen = _citizen()
    asked = _ask(service, ["youth.membership.birth_date"], hint=None)
    browser = _browser(citizen, loa="low")
    browser.get(urlsplit(approval_url(asked)).path)

    text = browser.get("/consent-requests/").content.decode()
    assert "strong authentication" in text and 'value="approve"' not in text
    forced = browser.post(f"/consent-requests/{asked.pk}/answer/", {"decision": "approve"})
    assert forced.status_code == 302
    assert not Consent.objects.filter(citizen=citizen).exists()


def test_approving_from_the_requests_page_gives_the_consent_and_confirms(service):
    citizen = _citizen()
    asked = _ask(service, FIELDS)
    browser = _browser(citizen)
    browser.get(urlsplit(approval_url(asked)).path)

    answered = browser.post(
        f"/consent-requests/{asked.pk}/answer/", {"decision": "approve"}, follow=True
    )
    assert answered.redirect_chain[-1][0] == "/consents/"
    assert "You shared the data with Youth centre bookings." in answered.content.decode()
    assert Consent.objects.filter(citizen=citizen).count() == 1


def test_refusing_from_the_requests_page_stays_in_the_wallet(service):
    citizen = _citizen()
    asked = _ask(service, FIELDS)
    browser = _browser(citizen)
    browser.get(urlsplit(approval_url(asked)).path)

    refused = browser.post(f"/consent-requests/{asked.pk}/answer/", {"decision": "refuse"})
    assert refused.status_code == 302 and refused["Location"] == "/consent-requests/"
    asked.refresh_from_db()
    assert asked.state == RequestState.REFUSED


def test_another_citizens_request_cannot_be_answered(service):
    owner, other = _citizen(), _other_citizen()
    asked = _ask(service, FIELDS)
    _browser(owner).get(urlsplit(approval_url(asked)).path)

    assert "Youth centre" not in _browser(other).get("/consent-requests/").content.decode()
    answer = _browser(other).post(f"/consent-requests/{asked.pk}/answer/", {"decision": "approve"})
    assert answer.status_code == 404
    assert ConsentRequest.objects.get(pk=asked.pk).state == RequestState.REQUESTED


@pytest.mark.parametrize("requests", [1, 8])
def test_requests_page_queries_are_constant(service, requests):
    citizen = _citizen()
    browser = _browser(citizen)
    for _ in range(requests):
        browser.get(urlsplit(approval_url(_ask(service, FIELDS))).path)

    # 1 session, 1 citizen, 1 requests with their service and purpose
    with assert_num_queries(default=3, keys=0):
        page = browser.get("/consent-requests/")
    assert page.content.decode().count('value="refuse"') == requests


# Consents


@pytest.mark.parametrize(("language", "_requests", "heading", "service_name", "label"), LANGUAGES)
def test_consents_page_shows_in_the_citizens_language(
    service, language, _requests, heading, service_name, label
):
    citizen = _citizen()
    _consent(citizen, service)

    page = _browser(citizen, language=language).get("/consents/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in text and f"<h1>{heading}</h1>" in text
    assert service_name in text and label in text
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_dates_follow_the_pages_locale(service, language):
    citizen = _citizen()
    consent = _consent(citizen, service)
    with translation.override(language):  # in Helsinki time, the locale's own format
        given = formats.date_format(timezone.localtime(consent.given_at), "DATETIME_FORMAT")

    text = _browser(citizen, language=language).get("/consents/").content.decode()
    assert given in text
    if language == "fi":
        assert "kello" in given and "a.m." not in text and "p.m." not in text


def test_withdrawal_on_the_page_takes_effect_for_the_next_read(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    assert _read(service, consent).granted_fields == FIELDS
    browser = _browser(citizen, enforce_csrf_checks=True)
    token = _csrf(browser)

    withdrawn = browser.post(
        f"/consents/{consent.pk}/withdraw/", {"csrfmiddlewaretoken": token}, follow=True
    )
    assert withdrawn.status_code == 200 and withdrawn.redirect_chain[-1][0] == "/consents/"
    assert "You withdrew the consent." in withdrawn.content.decode()

    read = _read(service, consent)
    assert read.granted_fields == [] and read.records == []
    assert set(FIELDS) <= set(read.withheld_fields)

    page = browser.get("/consents/").content.decode()
    assert "Withdrawn" in page and f"/consents/{consent.pk}/withdraw/" not in page
    again = browser.post(
        f"/consents/{consent.pk}/withdraw/", {"csrfmiddlewaretoken": token}, follow=True
    )
    assert "The consent is no longer in force." in again.content.decode()


def test_withdrawal_needs_the_csrf_token(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    browser = _browser(citizen, enforce_csrf_checks=True)

    assert browser.post(f"/consents/{consent.pk}/withdraw/").status_code == 403
    assert _read(service, consent).granted_fields == FIELDS


def test_answering_a_request_needs_the_csrf_token(service):
    citizen = _citizen()
    asked = _ask(service, FIELDS)
    browser = _browser(citizen, enforce_csrf_checks=True)
    browser.get(urlsplit(approval_url(asked)).path)

    answer = browser.post(f"/consent-requests/{asked.pk}/answer/", {"decision": "approve"})
    assert answer.status_code == 403
    assert not Consent.objects.filter(citizen=citizen).exists()


def test_another_citizens_consent_is_not_found_and_nothing_of_it_shows(service):
    owner, other = _citizen(), _other_citizen()
    consent = _consent(owner, service)
    browser = _browser(other)

    assert browser.post(f"/consents/{consent.pk}/withdraw/").status_code == 404
    assert browser.get(f"/consents/{consent.pk}/receipt/").status_code == 404
    assert browser.get(f"/consents/{uuid.uuid4()}/receipt/").status_code == 404
    page = browser.get("/consents/").content.decode()
    assert str(consent.pk) not in page and str(consent.pk)[:8] not in page
    assert "Youth centre bookings" not in page and "q@example.com" not in page
    assert _read(service, consent).granted_fields == FIELDS  # still in force


def test_receipt_downloads_as_a_file_that_verifies(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    browser = _browser(citizen)

    download = browser.get(f"/consents/{consent.pk}/receipt/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="consent-receipt-{consent.pk}.jws"'
    )
    assert "no-store" in download["Cache-Control"]
    receipt = download.content.decode()
    jwks = Client().get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(receipt)["kid"]
    [published] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(receipt, jwt.PyJWK(published).key, algorithms=[published["alg"]])
    assert claims["services"][0]["purposes"][0]["piiCategory"] == FIELDS
    assert claims["consentReceiptID"] == str(consent.receipt_id)


@pytest.mark.parametrize("consents", [1, 10])
def test_consents_page_queries_are_constant(service, consents):
    citizen = _citizen()
    for _ in range(consents):
        _consent(citizen, service)
    browser = _browser(citizen)

    # 1 session, 1 citizen, 1 consents with service and pairwise id, 1 status records; 1 data key
    with assert_num_queries(default=4, keys=1):
        page = browser.get("/consents/")
    assert page.content.decode().count("/withdraw/") == consents


# Signed in only


@pytest.mark.parametrize(
    "path",
    ["/consent-requests/", "/consents/", f"/consents/{uuid.uuid4()}/receipt/"],
)
def test_pages_send_a_visitor_to_sign_in_and_back(path):
    response = Client().get(path)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/oidc/authenticate/"
    assert parse_qs(location.query)["next"] == [path]


def test_a_visitors_withdrawal_changes_nothing(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    response = Client().post(f"/consents/{consent.pk}/withdraw/")
    assert response.status_code == 302 and "/oidc/authenticate/" in response["Location"]
    assert _read(service, consent).granted_fields == FIELDS


def test_navigation_links_the_consent_pages(service):
    text = _browser(_citizen()).get("/consents/").content.decode()
    assert 'href="/consent-requests/"' in text and 'href="/consents/" aria-current="page"' in text
    assert 'href="/log/"' in text


def test_the_approval_pages_errors_are_in_the_citizens_language(service):
    browser = _browser(_citizen(), language="fi")
    missing = browser.get("/consent/not-a-real-request/")
    text = missing.content.decode()
    assert missing.status_code == 404
    assert "Tätä suostumuspyyntöä ei voi näyttää" in text
    assert "Sinulle ei ole tällaista suostumuspyyntöä." in text


def test_an_answered_request_shows_its_outcome_without_the_buttons(service):
    citizen = _citizen()
    asked = _ask(service, FIELDS)
    path = urlsplit(approval_url(asked)).path
    browser = _browser(citizen, language="sv")
    browser.get(path)
    browser.post(path, {"decision": "refuse"})

    text = browser.get(path).content.decode()
    assert "Den här begäran är inte längre öppen:" in text and "Avböjd" in text
    assert 'value="approve"' not in text and 'value="refuse"' not in text
