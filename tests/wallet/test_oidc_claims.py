"""Where a citizen's claims come from, with the sandbox's provider over real HTTP: the ID token's
checks, and the profile of a citizen first seen through the API (userinfo once, or the token).

The provider's own access log (its gunicorn log) counts its userinfo calls: asked once for a new
citizen, never per request. A strict provider (one that refuses JWT access tokens at userinfo)
is tested end to end in tests/e2e/test_login_and_read.py.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from sandbox.demo import AINO, WALLET_WEB_CLIENT_ID
from sandbox.harness import free_port
from wallet.auth.oidc import CitizenOIDCBackend, SignInFailed

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

PROFILE_QUERY = "{ me { profile { firstName lastName email } } }"


def provider_requests(sandbox, path: str) -> int:
    """Requests for `path` in the provider's access log. A marker request goes first: once its
    line is written, so is every line of the requests answered before it."""
    marker = uuid.uuid4().hex
    httpx.get(f"{sandbox.discovery_url}?marker={marker}", timeout=10)
    deadline = time.monotonic() + 10
    while marker not in sandbox.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    return sandbox.log().count(f'"GET {path}')


def _profile(client, token: str) -> dict:
    response = client.post(
        "/graphql/",
        {"query": PROFILE_QUERY},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]["me"]["profile"]


def test_new_citizen_through_the_api_gets_the_profile_from_userinfo_once(client, sandbox):
    # given a token without the email scope: the sandbox's token carries the email anyway,
    # its userinfo does not (as the OIDC spec maps scopes to claims)
    token = sandbox.password_token("aino", scope="openid profile wallet")["access_token"]
    before = provider_requests(sandbox, "/idp/userinfo/")

    # when the citizen's first two requests come in
    first = _profile(client, token)
    second = _profile(client, token)

    # then the profile came from userinfo, asked once
    assert first == second == {"firstName": "Aino", "lastName": "Virtanen", "email": None}
    assert provider_requests(sandbox, "/idp/userinfo/") - before == 1


def test_token_claims_source_never_asks_userinfo(client, sandbox, settings):
    settings.OIDC_CLAIMS_SOURCE = "token"
    token = sandbox.password_token("aino", scope="openid profile wallet")["access_token"]
    before = provider_requests(sandbox, "/idp/userinfo/")

    assert _profile(client, token) == {
        "firstName": "Aino",
        "lastName": "Virtanen",
        "email": AINO.email,  # the access token's own claim
    }
    assert provider_requests(sandbox, "/idp/userinfo/") == before


def test_userinfo_down_does_not_fail_a_new_citizens_request(client, sandbox, settings, caplog):
    settings.OIDC_OP_USER_ENDPOINT = f"http://127.0.0.1:{free_port()}/userinfo/"  # nobody there
    settings.OIDC_TIMEOUT = 2
    token = sandbox.password_token("aino")["access_token"]

    profile = _profile(client, token)

    # the sandbox's (non-strict) token names the citizen; a standard provider's would not
    assert profile["firstName"] == "Aino"
    assert "userinfo for a new citizen failed (ConnectError)" in caplog.text
    for secret_or_personal in (token, AINO.email, "Virtanen"):
        assert secret_or_personal not in caplog.text


# The ID token: checked like an access token, and a rejection is a SignInFailed (the callback
# turns it into the "Sign-in failed" page; tests/e2e/test_login_and_read.py).


def _id_token(sandbox, **overrides):
    now = int(time.time())
    claims = {
        "iss": sandbox.issuer,
        "sub": str(AINO.sub),
        "aud": WALLET_WEB_CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "given_name": AINO.first_name,
    }
    claims.update(overrides)
    return sandbox.sign_jwt(
        {k: v for k, v in claims.items() if v is not None}, headers={"typ": "JWT"}
    )


def test_a_good_id_token_is_accepted(sandbox):
    payload = CitizenOIDCBackend().verify_token(_id_token(sandbox), nonce="n-1")
    assert payload["sub"] == str(AINO.sub)


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": "9999999999"},
        {"iat": True},
        {"iat": str(int(time.time()))},
        {"nbf": "0"},
        {"exp": int(time.time()) + 2 * 86400},  # lives longer than a day
        {"exp": None},
        {"aud": "some-other-client"},
        {"iss": "http://127.0.0.1:9/idp"},
        {"nonce": "n-2"},
    ],
    ids=repr,
)
def test_a_bad_id_token_is_rejected(sandbox, overrides):
    with pytest.raises(SignInFailed) as failure:
        CitizenOIDCBackend().verify_token(_id_token(sandbox, **overrides), nonce="n-1")
    assert failure.value.reason == "id_token_rejected"
    assert failure.value.status == 401
