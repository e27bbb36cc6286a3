"""A service's approval URL in a browser, over real HTTP: the citizen is sent to log in at the
provider, comes back to the request, approves, and the browser returns to the service."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from consent.demo import demo_services_seed
from tests.consent.conftest import CITIZEN_DATA, CONSENT_REQUEST, REDIRECT_URIS, REQUEST_CONSENT

from .test_login_and_read import _csrf_from

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


def _service_call(live_server, token: str, query: str, **variables: object) -> dict:
    response = httpx.post(
        f"{live_server.url}/graphql/",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    return dict(response.json()["data"])


def test_browser_follows_the_approval_url_logs_in_approves_and_returns(
    live_server, sandbox, browser_settings
):
    demo_services_seed()
    service = sandbox.client_credentials_token("demo-service", "demo-service-secret")[
        "access_token"
    ]
    asked = _service_call(
        live_server,
        service,
        REQUEST_CONSENT,
        fields=["profile.email"],
        purpose="membership-check",
        redirectUri=REDIRECT_URIS["demo-service"],
    )["requestConsent"]["request"]
    approval = asked["approvalUrl"].replace("http://127.0.0.1:8000", live_server.url)

    with httpx.Client(
        headers={"Accept-Language": "en"}, follow_redirects=True, timeout=20
    ) as browser:
        login_page = browser.get(approval)  # not signed in: off to the provider
        assert "/idp/login/" in str(login_page.url)
        authorize = parse_qs(urlsplit(str(login_page.history[-1].headers["location"])).query)
        request_page = browser.post(
            str(login_page.url),
            data={
                "username": "aino",
                "password": "demo",
                "csrfmiddlewaretoken": _csrf_from(login_page.text),
                "next": authorize.get("next", [""])[0],
            },
            headers={"Referer": str(login_page.url)},
        )
        assert str(request_page.url) == approval  # back at the request after the login
        assert "Youth centre bookings" in request_page.text and "Email" in request_page.text

        decided = browser.post(
            approval,
            data={"decision": "approve", "csrfmiddlewaretoken": _csrf_from(request_page.text)},
            headers={"Referer": approval},
            follow_redirects=False,
        )
    assert decided.status_code == 302
    back = urlsplit(decided.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URIS["demo-service"]
    assert parse_qs(back.query) == {"consent_request": [asked["id"]], "state": ["given"]}

    outcome = _service_call(live_server, service, CONSENT_REQUEST, id=asked["id"])
    read = _service_call(
        live_server, service, CITIZEN_DATA, id=outcome["consentRequest"]["citizenId"]
    )["citizenData"]
    assert read["grantedFields"] == ["profile.email"]
