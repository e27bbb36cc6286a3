"""The sandbox's OpenID provider, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from sandbox.demo import (
    ADMIN,
    AINO,
    CONNECTOR_CLIENT_ID,
    DEMO_SERVICES,
    WALLET_CLI_CLIENT_ID,
    WALLET_WEB_CLIENT_ID,
)
from sandbox.harness import Sandbox


def _jwks_key(sandbox: Sandbox, token: str) -> Any:
    return jwt.PyJWKClient(sandbox.jwks_url).get_signing_key_from_jwt(token).key


def _decode_access_token(sandbox: Sandbox, token: str, audience: str | list[str]) -> dict[str, Any]:
    return jwt.decode(
        token,
        _jwks_key(sandbox, token),
        algorithms=["RS256"],
        audience=audience,
        issuer=sandbox.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )


def test_discovery_names_the_issuer_and_the_code_flow_endpoints(sandbox: Sandbox) -> None:
    config = httpx.get(sandbox.discovery_url).json()

    assert config["issuer"] == sandbox.issuer
    assert config["jwks_uri"] == sandbox.jwks_url
    assert config["token_endpoint"] == sandbox.token_url
    assert config["end_session_endpoint"] == f"{sandbox.issuer}/logout/"
    assert config["response_types_supported"] == ["code"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "wallet", "youth", "berths"} <= set(
        config["scopes_supported"]
    )
    assert {"sub", "loa", "roles", "given_name", "family_name", "email"} <= set(
        config["claims_supported"]
    )


def test_jwks_publishes_one_rs256_signing_key(sandbox: Sandbox) -> None:
    keys = httpx.get(sandbox.jwks_url).json()["keys"]

    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["use"] == "sig"
    assert keys[0]["kid"]
    assert "d" not in keys[0]  # public part only


def test_password_grant_gives_an_rfc9068_jwt_for_the_wallet(sandbox: Sandbox) -> None:
    response = sandbox.password_token("aino", scope="openid profile email wallet")
    token = response["access_token"]

    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    jwks_kids = {key["kid"] for key in httpx.get(sandbox.jwks_url).json()["keys"]}
    assert header["kid"] in jwks_kids

    claims = _decode_access_token(sandbox, token, "oma-helsinki-wallet")
    assert claims["iss"] == sandbox.issuer
    assert claims["sub"] == str(AINO.sub)
    assert claims["aud"] == "oma-helsinki-wallet"
    assert claims["client_id"] == WALLET_CLI_CLIENT_ID
    assert claims["azp"] == WALLET_CLI_CLIENT_ID
    assert claims["scope"].split() == ["openid", "profile", "email", "wallet"]
    assert claims["exp"] - claims["iat"] == 3600 == response["expires_in"]
    assert uuid.UUID(claims["jti"]).version == 4
    assert claims["loa"] == "substantial"
    assert claims["given_name"] == "Aino"
    assert claims["family_name"] == "Virtanen"
    assert claims["email"] == AINO.email
    assert claims["roles"] == []


def test_several_resource_scopes_give_a_list_audience(sandbox: Sandbox) -> None:
    token = sandbox.password_token("admin", scope="wallet youth berths")["access_token"]

    claims = _decode_access_token(sandbox, token, "youth-membership")

    assert claims["aud"] == ["oma-helsinki-wallet", "youth-membership", "berth-reservations"]
    assert claims["sub"] == str(ADMIN.sub)
    assert claims["roles"] == ["wallet-admin"]


def test_wrong_password_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(httpx.HTTPStatusError) as error:
        sandbox.password_token("aino", password="not-demo")

    assert error.value.response.json()["error"] == "invalid_grant"


def test_wallet_cli_cannot_use_client_credentials(sandbox: Sandbox) -> None:
    response = httpx.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "client_id": WALLET_CLI_CLIENT_ID},
    )

    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "unauthorized_client")


def test_connector_client_credentials_token_is_a_service_account(sandbox: Sandbox) -> None:
    token = sandbox.service_token(scope="youth")["access_token"]

    claims = _decode_access_token(sandbox, token, "youth-membership")

    expected_sub = uuid.uuid5(
        uuid.NAMESPACE_URL, f"{sandbox.issuer}/service-account/{CONNECTOR_CLIENT_ID}"
    )
    assert claims["sub"] == str(expected_sub)
    assert claims["aud"] == "youth-membership"
    assert claims["client_id"] == claims["azp"] == CONNECTOR_CLIENT_ID
    assert claims["scope"] == "youth"
    assert "loa" not in claims
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


@pytest.mark.parametrize("service", DEMO_SERVICES, ids=lambda s: s.client_id)
def test_demo_services_get_wallet_tokens_of_their_own(sandbox: Sandbox, service: Any) -> None:
    token = sandbox.client_credentials_token(service.client_id, service.secret)["access_token"]

    claims = _decode_access_token(sandbox, token, "oma-helsinki-wallet")

    assert claims["client_id"] == claims["azp"] == service.client_id
    assert claims["scope"] == "wallet"
    assert "loa" not in claims
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.client_credentials_token(service.client_id, "not-the-secret")


def test_connector_with_a_wrong_secret_is_refused(sandbox: Sandbox) -> None:
    response = httpx.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "scope": "youth"},
        auth=(CONNECTOR_CLIENT_ID, "wrong"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_userinfo_answers_for_a_jwt_access_token(sandbox: Sandbox) -> None:
    token = sandbox.password_token("aino", scope="openid profile")["access_token"]

    info = httpx.get(
        f"{sandbox.issuer}/userinfo/", headers={"Authorization": f"Bearer {token}"}
    ).json()

    assert info == {
        "sub": str(AINO.sub),
        "given_name": "Aino",
        "family_name": "Virtanen",
        "loa": "substantial",
        "roles": [],
    }  # no email: the "email" scope was not asked


# Authorization code flow with PKCE, done by hand the way a browser would.


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _sign_in_and_get_code(
    browser: httpx.Client, sandbox: Sandbox, *, challenge: str | None, redirect_uri: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": WALLET_WEB_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email wallet",
        "state": "state-123",
        "nonce": "nonce-456",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    to_login = browser.get(f"{sandbox.issuer}/authorize/", params=params)
    assert to_login.status_code == 302
    assert urlsplit(to_login.headers["location"]).path == "/idp/login/"

    login_page = browser.get(to_login.headers["location"])
    assert login_page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
    next_url = re.search(r'name="next" value="([^"]+)"', login_page.text)
    assert csrf and next_url
    assert "sandbox_csrftoken" in browser.cookies

    signed_in = browser.post(
        f"{sandbox.issuer}/login/",
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": "aino",
            "password": "demo",
            "next": next_url.group(1).replace("&amp;", "&"),
        },
    )
    assert signed_in.status_code == 302
    assert "sandbox_sessionid" in browser.cookies
    return browser.get(signed_in.headers["location"], follow_redirects=False)


def test_authorization_code_flow_with_pkce_gives_aino_an_id_token(sandbox: Sandbox) -> None:
    [redirect_uri] = sandbox.redirect_uris
    [post_logout_uri] = sandbox.post_logout_uris
    verifier, challenge = _pkce_pair()
    with httpx.Client(base_url=sandbox.base_url) as browser:
        callback = _sign_in_and_get_code(
            browser, sandbox, challenge=challenge, redirect_uri=redirect_uri
        )

        assert callback.status_code == 302
        location = callback.headers["location"]
        assert location.startswith(redirect_uri)
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["state-123"]

        tokens = httpx.post(
            sandbox.token_url,
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(WALLET_WEB_CLIENT_ID, sandbox.wallet_client_secret),
        ).json()

        id_token = tokens["id_token"]
        claims = jwt.decode(
            id_token,
            _jwks_key(sandbox, id_token),
            algorithms=["RS256"],
            audience=WALLET_WEB_CLIENT_ID,
            issuer=sandbox.issuer,
        )
        assert claims["sub"] == str(AINO.sub)
        assert claims["nonce"] == "nonce-456"
        assert claims["loa"] == "substantial"
        assert claims["email"] == AINO.email
        access = _decode_access_token(sandbox, tokens["access_token"], "oma-helsinki-wallet")
        assert access["sub"] == str(AINO.sub)
        assert access["client_id"] == WALLET_WEB_CLIENT_ID

        # RP-initiated logout: back to a registered URI, and the provider session is gone.
        logout = browser.get(
            f"{sandbox.issuer}/logout/",
            params={
                "id_token_hint": id_token,
                "post_logout_redirect_uri": post_logout_uri,
                "state": "bye",
            },
        )
        assert logout.status_code == 302
        assert logout.headers["location"] == f"{post_logout_uri}?state=bye"
        again = browser.get(
            f"{sandbox.issuer}/authorize/",
            params={"response_type": "code", "client_id": WALLET_WEB_CLIENT_ID},
        )
        assert urlsplit(again.headers["location"]).path == "/idp/login/"


def test_authorization_code_without_pkce_is_refused(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url) as browser:
        callback = _sign_in_and_get_code(
            browser,
            sandbox,
            challenge=None,
            redirect_uri="http://127.0.0.1:8000/oidc/callback/",
        )

    query = parse_qs(urlsplit(callback.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query


def test_end_session_redirects_to_the_default_registered_uri(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.issuer}/logout/",
        params={
            "client_id": WALLET_WEB_CLIENT_ID,
            "post_logout_redirect_uri": "http://localhost:8000/",
        },
    )

    assert response.status_code == 302
    assert response.headers["location"] == "http://localhost:8000/"


def test_end_session_refuses_an_unregistered_uri(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.issuer}/logout/",
        params={
            "client_id": WALLET_WEB_CLIENT_ID,
            "post_logout_redirect_uri": "http://evil.example/",
        },
    )

    assert response.status_code == 400
    assert "location" not in response.headers


def test_front_page_lists_the_services(sandbox: Sandbox) -> None:
    page = httpx.get(f"{sandbox.base_url}/", timeout=10)
    assert page.status_code == 200
    assert f"{sandbox.issuer}/.well-known/openid-configuration" in page.text
    assert "/youth/graphql/" in page.text
