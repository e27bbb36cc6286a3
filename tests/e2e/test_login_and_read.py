"""End to end over real HTTP: the sandbox and the wallet on live ports, a browser-style login
(follow the redirects, post the provider's login form), then a bearer-token read of the card.

Also: every way the login's callback can fail ends on the "Sign-in failed" page with a 4xx, and a
strict provider (SANDBOX_IDP_STRICT=1: no profile claims in access tokens, userinfo refusing JWT
access tokens, as a certified OpenID provider behaves by default) works by settings alone.
"""

import re
import time
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import jwt
import pytest
from django.conf import settings as django_settings

from connectors.models import SyncRun
from sandbox.demo import AINO, AINO_YOUTH_CARD
from sandbox.harness import free_port, start_sandbox
from tests.conftest import _reset_cached_clients, point_settings_at
from tests.wallet.test_oidc_claims import provider_requests

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

CARD_QUERY = """{ me {
  profile { firstName lastName email }
  youthMembership { membershipNumber status expiration }
} }"""

ENGLISH = {"Accept-Language": "en"}  # the pages default to Finnish


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
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser:
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
        assert "Sign in" in logout.text
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
    with httpx.Client(headers=ENGLISH, follow_redirects=False, timeout=20) as browser:
        response = browser.get(f"{live_server.url}/oidc/callback/?code=abc&state=forged")
        assert response.status_code in (302, 400)
        assert browser.get(f"{live_server.url}/").text.count("Sign in") == 1


# Callback failures: each one is the "Sign-in failed" page, never a 500.

SIGN_IN_FAILED = "Sign-in failed, please try again"


def _callback_url(browser: httpx.Client, live_server, username: str = "aino") -> str:
    """Sign in at the provider and return the wallet callback URL it sends the browser to,
    without following it."""
    login_page = browser.get(f"{live_server.url}/oidc/authenticate/", follow_redirects=True)
    authorize = parse_qs(urlparse(str(login_page.history[-1].headers["location"])).query)
    response = browser.post(
        str(login_page.url),
        data={
            "username": username,
            "password": "demo",
            "csrfmiddlewaretoken": _csrf_from(login_page.text),
            "next": authorize.get("next", [""])[0],
        },
        headers={"Referer": str(login_page.url)},
        follow_redirects=False,
    )
    for _ in range(10):
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(f"{live_server.url}/oidc/callback/"):
            return location
        response = browser.get(location, follow_redirects=False)
    raise AssertionError("the provider never sent the browser back to the wallet")


def _assert_sign_in_failed(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    assert SIGN_IN_FAILED in response.text
    assert 'href="/oidc/authenticate/"' in response.text  # try again
    assert "no-store" in response.headers["Cache-Control"]


def _assert_logged_safely(caplog, reason: str) -> None:
    failures = [r.getMessage() for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert failures and failures[-1] == f"sign-in failed: {reason}", failures
    for personal in (AINO.email, AINO.last_name, "eyJ"):  # no personal data, no JWT
        assert personal not in caplog.text


def _closed_port_url(path: str) -> str:
    return f"http://127.0.0.1:{free_port()}{path}"


# case: (change to the settings, given them and the sandbox; status; what the log says)
CALLBACK_FAILURES = {
    # the token endpoint refuses the client (RFC 6749 invalid_client)
    "token endpoint error": (
        lambda s, sb: setattr(s, "OIDC_RP_CLIENT_SECRET", "wrong"),
        401,
        "token_refused (HTTP 401, invalid_client)",
    ),
    # nobody listens where the token endpoint should be
    "provider unreachable": (
        lambda s, sb: setattr(s, "OIDC_OP_TOKEN_ENDPOINT", _closed_port_url("/token/")),
        400,
        "token_endpoint_failed (ConnectionError)",
    ),
    # the provider's ID tokens live 10 hours, past this wallet's limit
    "ID token rejected": (
        lambda s, sb: setattr(s, "WALLET_TOKEN_MAX_LIFETIME_SECONDS", 60),
        401,
        "id_token_rejected (exp/iat/nbf)",
    ),
    # userinfo answers 404
    "userinfo error": (
        lambda s, sb: setattr(s, "OIDC_OP_USER_ENDPOINT", f"{sb.issuer}/no-such-endpoint/"),
        400,
        "userinfo_failed (HTTP 404)",
    ),
}


@pytest.mark.parametrize("case", sorted(CALLBACK_FAILURES))
def test_callback_failure_is_the_sign_in_failed_page(
    live_server, sandbox, browser_settings, caplog, case
):
    change, status, logged = CALLBACK_FAILURES[case]
    with httpx.Client(headers=ENGLISH, timeout=20) as browser:
        callback = _callback_url(browser, live_server)
        change(browser_settings, sandbox)

        response = browser.get(callback, follow_redirects=True)

        _assert_sign_in_failed(response, status)
        _assert_logged_safely(caplog, logged)
        assert "Sign in" in browser.get(f"{live_server.url}/").text  # not signed in


@pytest.mark.usefixtures("in_process_tasks")  # the real state signs in: its sync ends with it
def test_callback_with_a_wrong_state_is_the_sign_in_failed_page(
    live_server, sandbox, browser_settings, caplog
):
    with httpx.Client(headers=ENGLISH, timeout=20) as browser:
        callback = _callback_url(browser, live_server)
        forged = re.sub(r"state=[^&]+", "state=forged", callback)

        _assert_sign_in_failed(browser.get(forged), 400)
        _assert_logged_safely(caplog, "state_unknown")
        # the real state still works once, and only once
        assert browser.get(callback, follow_redirects=True).status_code == 200
        _assert_sign_in_failed(browser.get(callback), 400)


def test_provider_error_is_the_sign_in_failed_page_and_forgets_the_state(
    live_server, sandbox, browser_settings, caplog
):
    with httpx.Client(headers=ENGLISH, timeout=20) as browser:
        start = browser.get(f"{live_server.url}/oidc/authenticate/", follow_redirects=False)
        state = parse_qs(urlparse(start.headers["location"]).query)["state"][0]

        denied = browser.get(
            f"{live_server.url}/oidc/callback/", params={"error": "access_denied", "state": state}
        )

        _assert_sign_in_failed(denied, 401)
        _assert_logged_safely(caplog, "provider_error (access_denied)")
        replay = browser.get(
            f"{live_server.url}/oidc/callback/", params={"code": "x", "state": state}
        )
        _assert_sign_in_failed(replay, 400)


# The login-time sync runs in the request (in_process_tasks): with a broker, a worker left from
# an earlier test would run it while this test's database is flushed, and deadlock the flush.
@pytest.mark.usefixtures("in_process_tasks")
def test_login_with_claims_from_the_id_token_never_asks_userinfo(
    live_server, sandbox, browser_settings
):
    browser_settings.OIDC_CLAIMS_SOURCE = "token"
    browser_settings.OIDC_OP_USER_ENDPOINT = _closed_port_url("/userinfo/")  # would fail the login
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser:
        landed = _browser_login(browser, live_server, "aino")
        assert landed.status_code == 200, landed.text[:500]
        assert str(landed.url) == f"{live_server.url}/"
        assert AINO.first_name in landed.text and AINO.email in landed.text


# A strict provider, in a sandbox of its own for this module.


@pytest.fixture(scope="module")
def strict_sandbox_process(live_server):  # type: ignore[no-untyped-def]
    with start_sandbox(
        wallet_client_secret=django_settings.OIDC_RP_CLIENT_SECRET,
        connector_client_secret=django_settings.CONNECTOR_CLIENT_SECRET,
        library_client_key=django_settings.CONNECTORS["library"]["CLIENT_KEY"],
        library_client_secret=django_settings.CONNECTORS["library"]["CLIENT_SECRET"],
        extra_env={"SANDBOX_IDP_STRICT": "1", "SANDBOX_FAULT_TIMEOUT_SECONDS": "3"},
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_uris=[f"{live_server.url}/"],
    ) as running:
        yield running


@pytest.fixture
def strict_provider(strict_sandbox_process, browser_settings):  # type: ignore[no-untyped-def]
    """The wallet pointed at the strict provider by settings alone (the endpoints)."""
    point_settings_at(browser_settings, strict_sandbox_process)
    yield strict_sandbox_process
    _reset_cached_clients()


def test_strict_provider_gives_no_profile_in_access_tokens_and_refuses_them_at_userinfo(
    strict_provider,
):
    token = strict_provider.password_token("aino")["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == str(AINO.sub)
    assert not {"given_name", "family_name", "email", "loa"} & set(claims)
    refused = httpx.get(
        f"{strict_provider.issuer}/userinfo/", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


@pytest.mark.usefixtures("in_process_tasks")  # the login-time sync ends with the request
def test_login_against_a_strict_provider_takes_the_claims_from_the_id_token(
    live_server, strict_provider
):
    before = provider_requests(strict_provider, "/idp/userinfo/")
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser:
        landed = _browser_login(browser, live_server, "aino")

        assert landed.status_code == 200, landed.text[:500]
        assert str(landed.url) == f"{live_server.url}/"
        assert AINO.first_name in landed.text and AINO.email in landed.text
    # userinfo was asked, refused, and the ID token's claims were used
    assert provider_requests(strict_provider, "/idp/userinfo/") - before == 1


@pytest.mark.parametrize("source", ["userinfo", "token"])
def test_bearer_first_citizen_of_a_strict_provider_works_with_an_empty_profile(
    live_server, strict_provider, settings, source
):
    settings.OIDC_CLAIMS_SOURCE = source
    token = strict_provider.password_token("aino")["access_token"]
    before = provider_requests(strict_provider, "/idp/userinfo/")

    for _ in range(2):
        response = httpx.post(
            f"{live_server.url}/graphql/",
            json={"query": CARD_QUERY},
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        assert response.status_code == 200, response.text[:500]
        assert response.json()["data"]["me"]["profile"] == {
            "firstName": None,
            "lastName": None,
            "email": None,
        }

    asked = provider_requests(strict_provider, "/idp/userinfo/") - before
    assert asked == (1 if source == "userinfo" else 0)  # on first sight only, never per request


def test_the_sign_in_lasts_as_long_as_the_providers(
    live_server, sandbox, browser_settings, in_process_tasks, settings
):
    """When the ID token's time is up the next page asks the provider silently (prompt=none):
    while the provider's sign-in lasts, the citizen stays signed in (and no second login-time
    sync runs); once it has ended, so has the wallet's."""
    settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = 1
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser:
        assert _browser_login(browser, live_server, "aino").status_code == 200
        syncs_after_login = SyncRun.objects.filter(trigger="login").count()
        time.sleep(1.2)

        renewed = browser.get(f"{live_server.url}/profile/")
        hops = [str(r.url) for r in renewed.history]
        assert any("prompt=none" in hop for hop in hops), hops
        assert str(renewed.url) == f"{live_server.url}/profile/" and AINO.email in renewed.text
        assert SyncRun.objects.filter(trigger="login").count() == syncs_after_login

        # the provider's sign-in ends (its session is gone from this browser)
        browser.cookies.delete("sandbox_sessionid")
        time.sleep(1.2)
        ended = browser.get(f"{live_server.url}/profile/")
        assert str(ended.url) == f"{live_server.url}/"
        assert "Your sign-in has ended. Sign in again to continue." in ended.text
        assert AINO.email not in ended.text
        assert browser.get(f"{live_server.url}/profile/").history[0].status_code == 302
