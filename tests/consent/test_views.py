"""The approval page the service's approval URL points at."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from consent.demo import demo_services_seed
from consent.models import Consent
from consent.selectors import approval_url
from tests.consent.test_queries import _ask, _citizen

pytestmark = pytest.mark.django_db(databases="__all__")


def _request(fields=("profile.email",)):
    service = demo_services_seed()[0]
    return _ask(service, fields)


def _browser(citizen, loa="substantial", **client_options):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", **client_options)
    browser.force_login(citizen)
    session = browser.session
    session["wallet_loa"] = loa
    session.save()
    return browser


def _path(request):
    return urlsplit(approval_url(request)).path


def test_without_login_the_page_sends_the_browser_to_log_in_and_back():
    request = _request()
    response = Client().get(_path(request))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/oidc/authenticate/"
    assert parse_qs(location.query)["next"] == [_path(request)]


def test_citizen_sees_who_asks_what_and_why_then_approves_and_returns_to_the_service():
    request = _request(["profile.email", "youth.membership.status"])
    citizen = _citizen()
    browser = _browser(citizen, enforce_csrf_checks=True)

    page = browser.get(_path(request))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Youth centre bookings" in text and "Checking your youth membership" in text
    assert "Email" in text and "Status" in text
    assert page["Cache-Control"].startswith("max-age=0")

    # CSRF protection holds on the decision
    assert browser.post(_path(request), {"decision": "approve"}).status_code == 403
    decided = browser.post(
        _path(request), {"decision": "approve", "csrfmiddlewaretoken": page.context["csrf_token"]}
    )
    assert decided.status_code == 302
    assert decided["Location"].startswith("http://127.0.0.1:8200/consent/callback?")
    assert parse_qs(urlsplit(decided["Location"]).query)["state"] == ["given"]
    assert Consent.objects.filter(citizen=citizen).count() == 1

    again = browser.post(
        _path(request), {"decision": "approve", "csrfmiddlewaretoken": page.context["csrf_token"]}
    )
    assert again.status_code == 409


def test_sensitive_request_cannot_be_approved_from_a_weak_login():
    request = _request(["profile.email", "youth.membership.birth_date"])
    browser = _browser(_citizen(), loa="low")

    page = browser.get(_path(request))
    assert b'value="approve"' not in page.content and b"strong authentication" in page.content
    forced = browser.post(_path(request), {"decision": "approve"})
    assert forced.status_code == 400
    refused = browser.post(_path(request), {"decision": "refuse"})
    assert refused.status_code == 302 and "state=refused" in refused["Location"]


def test_unknown_request_is_a_plain_404():
    response = _browser(_citizen()).get("/consent/not-a-real-request/")
    assert response.status_code == 404


def test_the_approval_page_lets_its_form_go_back_to_the_service_and_no_other_page_does():
    request = _request()
    browser = _browser(_citizen())
    page = browser.get(_path(request))
    form_action = next(
        d for d in page["Content-Security-Policy"].split(";") if d.strip().startswith("form-action")
    )
    redirect = urlsplit(request.redirect_uri)
    assert f"{redirect.scheme}://{redirect.netloc}" in form_action.split()
    home = browser.get("/")["Content-Security-Policy"]
    assert f"{redirect.scheme}://{redirect.netloc}" not in home
