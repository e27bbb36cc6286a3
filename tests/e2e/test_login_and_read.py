"""End to end over real HTTP: the sandbox and the wallet on live ports, a browser-style login
(follow the redirects, post the provider's login form), then a bearer-token read of the card."""

import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandbox.demo import AINO, AINO_YOUTH_CARD

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

CARD_QUERY = """{ me {
  profile { firstName lastName email }
  youthMembership { membershipNumber status expiration }
} }"""


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _browser_login(browser: httpx.Client, live_server, username: str) -> httpx.Response:
    login_page = browser.get(f"{live_server.url}/oidc/authenticate/")
    assert login_page.status_code == 200 and "/idp/login/" in str(login_page.url)
    authorize = parse_qs(urlparse(str(login_page.history[-1].headers["location"])).query)
    assert "code_challenge" in parse_qs(
        urlparse(str(login_page.history[0].headers["location"])).query
    )
    return browser.post(
        str(login_page.url),
        data={
            "username": username,
            "password": "demo",
            "csrfmiddlewaretoken": _csrf_from(login_page.text),
            "next": authorize.get("next", [""])[0],
        },
        headers={"Referer": str(login_page.url)},
    )


def _page_once_synced(browser: httpx.Client, url: str, expected: str, timeout: float = 30) -> str:
    """The login-time sync runs in-process (embedded) or on a Celery worker: wait, boundedly."""
    deadline = time.monotonic() + timeout
    while True:
        page = browser.get(url).text
        if expected in page or time.monotonic() > deadline:
            return page
        time.sleep(0.3)


def test_browser_login_shows_profile_and_card_then_bearer_api_reads_it(
    live_server, sandbox, browser_settings, task_runner
):
    with httpx.Client(follow_redirects=True, timeout=20) as browser:
        landed = _browser_login(browser, live_server, "aino")
        assert landed.status_code == 200, landed.text[:500]
        assert str(landed.url) == f"{live_server.url}/"
        # the profile came from the ID token/userinfo claims, the card from the login-time sync
        assert AINO.first_name in landed.text and AINO.email in landed.text
        page = _page_once_synced(browser, f"{live_server.url}/", AINO_YOUTH_CARD.membership_number)
        assert AINO_YOUTH_CARD.membership_number in page, f"no card after login ({task_runner})"
        assert (
            landed.headers["Cache-Control"].startswith("max-age=0")
            or "no-store" in landed.headers["Cache-Control"]
        )
        assert "sandbox_sessionid" in browser.cookies and "wallet_sessionid" in browser.cookies

        # logout ends the provider session too, and comes back to the wallet
        logout = browser.post(
            f"{live_server.url}/oidc/logout/",
            data={"csrfmiddlewaretoken": browser.cookies["wallet_csrftoken"]},
            headers={"Referer": f"{live_server.url}/"},
        )
        assert logout.status_code == 200 and str(logout.url) == f"{live_server.url}/"
        hops = [str(r.url) for r in logout.history]
        assert any(
            hop.startswith(f"{sandbox.issuer}/logout/") and "id_token_hint=" in hop for hop in hops
        )
        assert "Log in" in logout.text
        again = browser.get(f"{live_server.url}/oidc/authenticate/")
        assert "/idp/login/" in str(again.url), "the provider session should have ended"

    token = sandbox.password_token("aino")["access_token"]
    api = httpx.post(
        f"{live_server.url}/graphql/",
        json={"query": CARD_QUERY},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    assert api.status_code == 200
    me = api.json()["data"]["me"]
    assert me["youthMembership"] == {
        "membershipNumber": AINO_YOUTH_CARD.membership_number,
        "status": "ACTIVE",
        "expiration": AINO_YOUTH_CARD.expiration.isoformat(),
    }
    assert me["profile"]["lastName"] == AINO.last_name


def test_token_then_sync_my_data_then_me(live_server, sandbox):
    """The README's first steps: a password-grant token, `syncMyData`, then `me`."""
    token = sandbox.password_token("aino")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    sync = httpx.post(
        f"{live_server.url}/graphql/",
        json={
            "query": "mutation { syncMyData { "
            "sources { source status created unchanged errorCode } errors { code } } }"
        },
        headers=headers,
        timeout=20,
    ).json()["data"]["syncMyData"]
    assert sync["errors"] == []
    by_source = {s["source"]: s for s in sync["sources"]}
    assert set(by_source) == {"youth", "berths", "library"}
    assert by_source["youth"] == {
        "source": "youth",
        "status": "SUCCEEDED",
        "created": 1,
        "unchanged": 0,
        "errorCode": None,
    }
    me = httpx.post(
        f"{live_server.url}/graphql/", json={"query": CARD_QUERY}, headers=headers, timeout=20
    ).json()
    assert (
        me["data"]["me"]["youthMembership"]["membershipNumber"] == AINO_YOUTH_CARD.membership_number
    )


def test_login_with_a_forged_state_is_refused(live_server, sandbox, browser_settings):
    with httpx.Client(follow_redirects=False, timeout=20) as browser:
        response = browser.get(f"{live_server.url}/oidc/callback/?code=abc&state=forged")
        assert response.status_code in (302, 400)
        assert browser.get(f"{live_server.url}/").text.count("Log in") == 1
