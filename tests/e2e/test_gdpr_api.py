"""The city's GDPR API over real HTTP, with real tokens from the sandbox's provider: the wallet on
a live port, the Helsinki profile service's client (`helsinki-profile`) asking with a citizen's
token that carries the query or the delete scope.

Covers each status of the specification (200, 204, 400, 401, 403, 404, 405), the error body
`{"errors": [{"code", "message": {"fi", "sv", "en"}}]}`, the scopes, the dry run, and that a
token never reaches another citizen's data.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sandbox.demo import (
    AINO,
    EERO,
    GDPR_DELETE_SCOPE,
    GDPR_QUERY_SCOPE,
    HELSINKI_PROFILE_CLIENT_ID,
    SOFIA,
)
from wallet.models import Citizen, DataRecord, Profile
from wallet.services import UpstreamRecord, profile_update_from_claims, records_upsert

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _gdpr_token(sandbox: Any, username: str, scope: str) -> str:
    response = sandbox.password_token(username, scope=scope, client_id=HELSINKI_PROFILE_CLIENT_ID)
    return str(response["access_token"])


def _url(live_server: Any, sub: object) -> str:
    return f"{live_server.url}/gdpr-api/v1/profiles/{sub}"


def _call(method: str, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, url, headers=headers, timeout=20, **kwargs)


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert set(error) == {"code", "message"}
    assert set(error["message"]) == {"fi", "sv", "en"}
    # three real translations, not one text three times
    assert len(set(error["message"].values())) == 3
    return error


def _citizen_with_data(sandbox: Any, user: Any) -> Citizen:
    citizen = Citizen.objects.create(issuer=sandbox.issuer, subject=str(user.sub))
    profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": user.first_name, "family_name": user.last_name, "email": user.email},
    )
    records_upsert(
        citizen=citizen,
        source="berths",
        records=[
            UpstreamRecord(
                kind="boat",
                external_id="boat-1",
                payload={"registration_number": "GDPR-123", "name": "Aallotar"},
            )
        ],
    )
    return citizen


def _keys(node: dict[str, Any]) -> list[str]:
    keys = [node["key"]]
    for child in node.get("children", []):
        keys.extend(_keys(child))
    return keys


def _values(node: dict[str, Any]) -> list[str]:
    values = [node["value"]] if "value" in node else []
    for child in node.get("children", []):
        values.extend(_values(child))
    return values


def test_query_gives_the_citizens_data_as_the_specifications_tree(live_server, sandbox):
    citizen = _citizen_with_data(sandbox, EERO)
    token = _gdpr_token(sandbox, "eero", GDPR_QUERY_SCOPE)

    response = _call("GET", _url(live_server, EERO.sub), token)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    tree = response.json()
    assert tree["key"] == "OMA_HELSINKI_WALLET"
    for key in _keys(tree):
        assert key == key.upper() and " " not in key and "." not in key, key
    values = _values(tree)
    assert all(isinstance(value, str) for value in values)
    assert {EERO.first_name, EERO.last_name, EERO.email, "GDPR-123", "Aallotar"} <= set(values)
    assert str(citizen.pk) in values


def test_query_of_a_profile_the_wallet_does_not_know_is_204(live_server, sandbox):
    token = _gdpr_token(sandbox, "sofia", GDPR_QUERY_SCOPE)

    response = _call("GET", _url(live_server, SOFIA.sub), token)

    assert response.status_code == 204
    assert response.content == b""
    assert not Citizen.objects.filter(subject=str(SOFIA.sub)).exists()  # nor created by asking


def test_delete_dry_run_changes_nothing_and_the_real_one_erases(live_server, sandbox):
    citizen = _citizen_with_data(sandbox, EERO)
    token = _gdpr_token(sandbox, "eero", GDPR_DELETE_SCOPE)
    url = _url(live_server, EERO.sub)

    for dry_run in ("true", "1", "True"):
        response = _call("DELETE", url, token, params={"dry_run": dry_run})
        assert response.status_code == 204, dry_run
    assert Citizen.objects.filter(pk=citizen.pk).exists()
    assert DataRecord.objects.filter(citizen=citizen).count() == 1
    assert Profile.objects.filter(citizen=citizen).exists()

    response = _call("DELETE", url, token, params={"dry_run": "false"})

    assert response.status_code == 204
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
    assert not DataRecord.objects.filter(citizen_id=citizen.pk).exists()
    query_token = _gdpr_token(sandbox, "eero", GDPR_QUERY_SCOPE)
    assert _call("GET", url, query_token).status_code == 204  # nothing of him is left
    assert _call("DELETE", url, token).status_code == 204  # and deleting again is no error


def test_a_malformed_dry_run_is_400_and_erases_nothing(live_server, sandbox):
    citizen = _citizen_with_data(sandbox, EERO)
    token = _gdpr_token(sandbox, "eero", GDPR_DELETE_SCOPE)

    response = _call("DELETE", _url(live_server, EERO.sub), token, params={"dry_run": "perhaps"})

    assert response.status_code == 400
    assert _error(response)["code"] == "INVALID_PARAMETER"
    assert Citizen.objects.filter(pk=citizen.pk).exists()


@pytest.mark.parametrize(
    ("method", "scope"),
    [
        ("GET", GDPR_DELETE_SCOPE),  # deleting does not allow reading
        ("DELETE", GDPR_QUERY_SCOPE),  # nor reading deleting
    ],
)
def test_a_token_without_the_operations_scope_is_403(live_server, sandbox, method, scope):
    citizen = _citizen_with_data(sandbox, EERO)
    token = _gdpr_token(sandbox, "eero", scope)

    response = _call(method, _url(live_server, EERO.sub), token)

    assert response.status_code == 403
    assert _error(response)["code"] == "INSUFFICIENT_SCOPE"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert Citizen.objects.filter(pk=citizen.pk).exists()


def test_the_wallets_own_api_token_is_not_a_gdpr_token(live_server, sandbox):
    _citizen_with_data(sandbox, EERO)
    token = sandbox.password_token("eero")["access_token"]  # scope `wallet`, same audience

    for method in ("GET", "DELETE"):
        response = _call(method, _url(live_server, EERO.sub), token)
        assert response.status_code == 403, method
        assert _error(response)["code"] == "INSUFFICIENT_SCOPE"


def test_a_token_about_another_profile_is_403_whether_or_not_it_exists(live_server, sandbox):
    eero = _citizen_with_data(sandbox, EERO)
    token = _gdpr_token(sandbox, "aino", f"{GDPR_QUERY_SCOPE} {GDPR_DELETE_SCOPE}")

    for method in ("GET", "DELETE"):
        known = _call(method, _url(live_server, EERO.sub), token)
        unknown = _call(method, _url(live_server, SOFIA.sub), token)
        assert known.status_code == unknown.status_code == 403, method
        assert _error(known) == _error(unknown)  # nothing tells the two apart
        assert _error(known)["code"] == "FORBIDDEN"
    assert Citizen.objects.filter(pk=eero.pk).exists()
    assert AINO.sub != EERO.sub


def test_missing_and_invalid_tokens_are_401(live_server, sandbox):
    citizen = _citizen_with_data(sandbox, EERO)
    url = _url(live_server, EERO.sub)
    now = int(time.time())
    good_claims = {
        "iss": sandbox.issuer,
        "aud": "oma-helsinki-wallet",
        "sub": str(EERO.sub),
        "client_id": HELSINKI_PROFILE_CLIENT_ID,
        "scope": f"{GDPR_QUERY_SCOPE} {GDPR_DELETE_SCOPE}",
        "iat": now,
        "exp": now + 300,
    }
    refused = {
        "no token": None,
        "not a JWT": "not-a-token",
        "expired": sandbox.sign_jwt({**good_claims, "iat": now - 600, "exp": now - 300}),
        "another issuer": sandbox.sign_jwt({**good_claims, "iss": "https://issuer.invalid"}),
        "another audience": sandbox.sign_jwt({**good_claims, "aud": "youth-membership"}),
        "tampered": sandbox.sign_jwt(good_claims)[:-4] + "AAAA",
    }
    for name, token in refused.items():
        for method in ("GET", "DELETE"):
            response = _call(method, url, token)
            assert response.status_code == 401, (name, method)
            assert _error(response)["code"] in {"UNAUTHORIZED", "INVALID_TOKEN"}, name
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert Citizen.objects.filter(pk=citizen.pk).exists()
    # the same claims, signed properly, are accepted: the refusals above were for their flaw
    assert _call("GET", url, sandbox.sign_jwt(good_claims)).status_code == 200


def test_cookies_are_no_credentials(live_server, sandbox, client):
    citizen = _citizen_with_data(sandbox, EERO)
    client.force_login(citizen)
    session_cookie = client.cookies["sessionid"].value if "sessionid" in client.cookies else ""
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}

    response = httpx.get(_url(live_server, EERO.sub), cookies=cookies, timeout=20)

    assert session_cookie or cookies  # the browser session existed
    assert response.status_code == 401


def test_a_path_that_is_no_profile_id_is_404_with_the_error_body(live_server, sandbox):
    token = _gdpr_token(sandbox, "eero", GDPR_QUERY_SCOPE)

    response = _call("GET", f"{live_server.url}/gdpr-api/v1/profiles/eero", token)

    assert response.status_code == 404
    assert _error(response)["code"] == "NOT_FOUND"


def test_other_methods_are_405(live_server, sandbox):
    token = _gdpr_token(sandbox, "eero", GDPR_QUERY_SCOPE)

    response = _call("POST", _url(live_server, EERO.sub), token)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, DELETE"
    assert _error(response)["code"] == "METHOD_NOT_ALLOWED"


def test_only_the_profile_service_can_get_the_gdpr_scopes(sandbox):
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sandbox.password_token("eero", scope=GDPR_DELETE_SCOPE)  # the wallet's own CLI client
    assert refused.value.response.status_code in (400, 401)


def test_a_delete_that_stops_after_the_commit_point_is_500_and_its_retry_finishes(
    live_server, sandbox, monkeypatch
):
    """The key store is down (a fault the sandbox cannot make): the citizen is erased for
    everyone at once, but "nothing is left" is not true yet, so the answer is 500 with the
    error body; the profile service's retry finishes the erasure and gets 204."""
    from django.db import OperationalError

    from wallet import keys

    citizen = _citizen_with_data(sandbox, EERO)
    delete_token = _gdpr_token(sandbox, "eero", GDPR_DELETE_SCOPE)
    query_token = _gdpr_token(sandbox, "eero", GDPR_QUERY_SCOPE)
    url = _url(live_server, EERO.sub)
    destroy = keys.citizen_key_destroy

    def key_store_down(**kwargs: Any) -> bool:
        raise OperationalError("key store down")

    monkeypatch.setattr(keys, "citizen_key_destroy", key_store_down)
    stopped = _call("DELETE", url, delete_token)

    assert stopped.status_code == 500
    assert _error(stopped)["code"] == "ERASURE_FAILED"
    assert "key store" not in stopped.text  # the cause is logged, never sent
    assert _call("GET", url, query_token).status_code == 204  # erased for every observer

    monkeypatch.setattr(keys, "citizen_key_destroy", destroy)
    assert _call("DELETE", url, delete_token).status_code == 204
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
