"""Bearer calls to the API skip the browsers' middleware; everything else goes down the whole
chain (wallet/bearer_api.py)."""

import pytest
from django.conf import settings as django_settings

from sandbox.demo import AINO
from tests.factories import CitizenFactory
from wallet.bearer_api import API_CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ME_EMAIL = "{ me { profile { email } } }"


def _bearer_post(client, token, query=ME_EMAIL):
    return client.post(
        "/graphql/",
        {"query": query},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _pages_policy() -> str:
    # the policy django-csp gives pages (wallet/settings.py, CONTENT_SECURITY_POLICY)
    return "default-src 'self'"


def test_a_bearer_call_is_answered_by_the_view_with_the_headers_of_a_json_answer(client, sandbox):
    # given a browser signed in as someone else, whose session cookie the call also carries
    client.force_login(CitizenFactory())
    token = sandbox.password_token("aino")["access_token"]

    # when the call comes with aino's token
    response = _bearer_post(client, token)

    # then the token decides who it is, no cookie is set or renewed, and the answer carries the
    # API's own policy, not the pages'
    assert response.status_code == 200, response.content
    assert response.json()["data"]["me"]["profile"]["email"] == AINO.email
    assert not response.cookies
    assert response["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == django_settings.X_FRAME_OPTIONS
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs


def test_a_refused_token_is_answered_the_same_way(client, sandbox):
    response = _bearer_post(client, "not-a-token")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
    assert not response.cookies


def test_a_browser_call_to_the_api_goes_down_the_whole_chain(client):
    client.force_login(CitizenFactory())

    response = client.post("/graphql/", {"query": ME_EMAIL}, content_type="application/json")

    assert response.status_code == 200, response.content
    assert _pages_policy() in response["Content-Security-Policy"]
    assert response["Content-Language"] == "fi"


def test_an_authorization_header_on_a_page_changes_nothing(client):
    response = client.get("/", HTTP_AUTHORIZATION="Bearer whatever")

    assert response.status_code == 200
    assert _pages_policy() in response["Content-Security-Policy"]
    assert django_settings.CSRF_COOKIE_NAME in response.cookies  # the page's form token


def test_a_bearer_call_to_no_view_is_a_404(client):
    assert client.get("/no-such-page/", HTTP_AUTHORIZATION="Bearer whatever").status_code == 404
