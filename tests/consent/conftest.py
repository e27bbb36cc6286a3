"""Consent tests run against the sandbox's real provider: citizens and services get real tokens."""

from __future__ import annotations

from typing import Any

import pytest

from consent.demo import demo_services_seed
from consent.selectors import service_cache_clear

SERVICE_SECRETS = {"demo-service": "demo-service-secret", "demo-service-2": "demo-service-2-secret"}
REDIRECT_URIS = {
    "demo-service": "http://127.0.0.1:8200/consent/callback",
    "demo-service-2": "http://127.0.0.1:8201/consent/callback",
}


@pytest.fixture
def demo_services(db):  # type: ignore[no-untyped-def]
    service_cache_clear()  # a registry cached by an earlier test's process state
    return {service.slug: service for service in demo_services_seed()}


_TOKENS: dict[tuple[str, str, str], str] = {}


def _cached_token(sandbox: Any, kind: str, name: str) -> str:
    key = (sandbox.issuer, kind, name)
    if key not in _TOKENS:
        _TOKENS[key] = _fetch_token(sandbox, kind, name)
    return _TOKENS[key]


def _fetch_token(sandbox: Any, kind: str, name: str) -> str:
    if kind == "service":
        return str(sandbox.client_credentials_token(name, SERVICE_SECRETS[name])["access_token"])
    return str(sandbox.password_token(name)["access_token"])


@pytest.fixture
def tokens(sandbox):  # type: ignore[no-untyped-def]
    """`tokens.service("demo-service")`, `tokens.citizen("aino")`: cached for the session (they
    live an hour), so the many small tests here do not each ask the provider."""

    class Tokens:
        @staticmethod
        def service(client_id: str) -> str:
            return _cached_token(sandbox, "service", client_id)

        @staticmethod
        def citizen(username: str) -> str:
            return _cached_token(sandbox, "citizen", username)

    return Tokens()


class Api:
    """GraphQL over the Django test client, as a given bearer token (or none)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = self.client.post(
            "/graphql/",
            {"query": query, "variables": variables},
            content_type="application/json",
            **extra,
        )
        if token is None:
            # No credentials: whatever was asked, the answer says to authenticate.
            assert response.status_code == 401, response.content
            assert response["WWW-Authenticate"].startswith("Bearer")
        else:
            assert response.status_code in (200, 400), response.content
        return dict(response.json())


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    return Api(client)


REQUEST_CONSENT = """
mutation($fields: [String!]!, $purpose: String!, $redirectUri: String!, $hint: String,
         $expiresAt: DateTime) {
  requestConsent(fields: $fields, purpose: $purpose, redirectUri: $redirectUri,
                 citizenHint: $hint, expiresAt: $expiresAt) {
    request { id state approvalUrl expiresAt fields { id sensitive } citizenId }
    errors { field message code }
  }
}"""

DECIDE = """
mutation($id: String!, $approve: Boolean!) {
  decideConsentRequest(id: $id, approve: $approve) {
    request { id state citizenId consentId } consentId redirectUrl
    errors { field message code }
  }
}"""

CONSENT_REQUEST = """
query($id: String!) {
  consentRequest(id: $id) { id state citizenId consentId fields { id } purpose { code } }
}"""

CITIZEN_DATA = """
query($id: ID!, $fields: [String!]) {
  citizenData(citizenId: $id, fields: $fields) {
    citizenId requestId grantedFields withheldFields
    records { kind values { fieldId value } }
  }
}"""

WITHDRAW = """
mutation($id: ID!) { withdrawConsent(id: $id) { withdrawnAt errors { field message code } } }"""

ACCESS_LOG = """
query($first: Int, $after: String) {
  me { accessLog(first: $first, after: $after) {
    edges { cursor node { at service { id name } fields withheldFields purposes requestId
                          consentId } }
    pageInfo { hasNextPage endCursor }
  } }
}"""

PURPOSES = {"demo-service": "membership-check", "demo-service-2": "harbour-notices"}


def ask(
    api: Api,
    tokens: Any,
    *,
    service: str,
    fields: list[str],
    hint: str | None = None,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """The service files a request for its registered purpose and redirect URI: the payload."""
    asked = api(
        REQUEST_CONSENT,
        tokens.service(service),
        fields=fields,
        purpose=PURPOSES[service],
        redirectUri=REDIRECT_URIS[service],
        hint=hint,
        expiresAt=expires_at,
    )["data"]["requestConsent"]
    assert asked["errors"] == [], asked
    return dict(asked["request"])


def grant(
    api: Api,
    tokens: Any,
    *,
    service: str,
    citizen: str,
    fields: list[str],
    hint: str | None = None,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """A service asks, the citizen approves: the approved request (with the pairwise id)."""
    asked = ask(api, tokens, service=service, fields=fields, hint=hint, expires_at=expires_at)
    decided = api(DECIDE, tokens.citizen(citizen), id=asked["id"], approve=True)
    assert decided["data"]["decideConsentRequest"]["errors"] == [], decided
    outcome = api(CONSENT_REQUEST, tokens.service(service), id=asked["id"])
    return dict(outcome["data"]["consentRequest"])
