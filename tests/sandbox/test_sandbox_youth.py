"""The youth-membership simulator, over real HTTP with real tokens from the sandbox provider."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest

from sandbox.demo import (
    AINO,
    AINO_YOUTH_CARD,
    SOFIA,
    bench_citizen,
    bench_membership_number,
    youth_profile_node_id,
)
from sandbox.harness import Sandbox

CARD_QUERY = """
query Card($id: ID!) {
  youthProfile(id: $id) {
    id membershipNumber membershipStatus expiration birthDate schoolName schoolClass
    languageAtHome photoUsageApproved approverFirstName approverLastName approverPhone
    approverEmail
    additionalContactPersons { totalCount edges { node { firstName lastName phone email } } }
  }
}
"""

SWEEP_QUERY = """
query Sweep($after: String, $number: String) {
  youthProfiles(first: 10, after: $after, membershipNumber: $number) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id membershipNumber membershipStatus } }
  }
}
"""


@pytest.fixture(scope="module")
def service_token(sandbox: Sandbox) -> str:
    return str(sandbox.service_token(scope="youth")["access_token"])


def _error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_service_token_reads_ainos_card(youth_query, service_token: str) -> None:
    response = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)}, token=service_token)

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    card = AINO_YOUTH_CARD
    assert body["data"]["youthProfile"] == {
        "id": youth_profile_node_id(AINO.sub),
        "membershipNumber": card.membership_number,
        "membershipStatus": "ACTIVE",
        "expiration": card.expiration.isoformat(),
        "birthDate": "2011-05-14",
        "schoolName": card.school_name,
        "schoolClass": card.school_class,
        "languageAtHome": "FINNISH",
        "photoUsageApproved": True,
        "approverFirstName": card.approver_first_name,
        "approverLastName": card.approver_last_name,
        "approverPhone": card.approver_phone,
        "approverEmail": card.approver_email,
        "additionalContactPersons": {
            "totalCount": 1,
            "edges": [
                {
                    "node": {
                        "firstName": person.first_name,
                        "lastName": person.last_name,
                        "phone": person.phone,
                        "email": person.email,
                    }
                }
                for person in card.additional_contact_persons
            ],
        },
    }


def test_missing_profile_is_null_without_errors(youth_query, service_token: str) -> None:
    response = youth_query(
        CARD_QUERY, {"id": youth_profile_node_id(SOFIA.sub)}, token=service_token
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"youthProfile": None}}


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-base64-at-all",
        youth_profile_node_id("not-a-uuid"),
        # A valid UUID, but the id of another node type.
        base64.b64encode(f"ProfileNode:{AINO.sub}".encode()).decode(),
    ],
)
def test_malformed_id_is_a_general_error(youth_query, service_token: str, bad_id: str) -> None:
    response = youth_query(CARD_QUERY, {"id": bad_id}, token=service_token)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"youthProfile": None}
    assert _error_codes(body) == ["GENERAL_ERROR"]


def test_no_token_is_permission_denied(youth_query) -> None:
    response = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)})

    assert response.status_code == 200
    assert _error_codes(response.json()) == ["PERMISSION_DENIED_ERROR"]
    assert response.json()["data"] == {"youthProfile": None}


def test_garbage_token_is_permission_denied(youth_query) -> None:
    response = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)}, token="garbage")

    assert _error_codes(response.json()) == ["PERMISSION_DENIED_ERROR"]


def test_token_for_another_audience_is_permission_denied(youth_query, sandbox: Sandbox) -> None:
    wallet_token = sandbox.password_token("aino", scope="openid wallet")["access_token"]

    response = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)}, token=wallet_token)

    assert _error_codes(response.json()) == ["PERMISSION_DENIED_ERROR"]


def test_expired_token_is_token_expired(youth_query, sandbox: Sandbox) -> None:
    now = int(time.time())
    expired = sandbox.sign_jwt(
        {
            "iss": sandbox.issuer,
            "sub": str(uuid.uuid4()),
            "aud": "youth-membership",
            "client_id": "oma-wallet-connector",
            "scope": "youth",
            "iat": now - 7200,
            "exp": now - 3600,
            "jti": str(uuid.uuid4()),
        }
    )

    response = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)}, token=expired)

    assert response.status_code == 200
    assert _error_codes(response.json()) == ["TOKEN_EXPIRED_ERROR"]


def test_malformed_query_is_http_400(youth_query, service_token: str) -> None:
    response = youth_query("{ youthProfile(id: ", token=service_token)

    assert response.status_code == 400


def test_citizen_token_reads_only_the_citizens_own_card(youth_query, sandbox: Sandbox) -> None:
    aino_token = sandbox.password_token("aino", scope="youth")["access_token"]
    someone_else = youth_profile_node_id(bench_citizen(sandbox.citizen_seed, 0))

    own = youth_query(CARD_QUERY, {"id": youth_profile_node_id(AINO.sub)}, token=aino_token)
    other = youth_query(CARD_QUERY, {"id": someone_else}, token=aino_token)
    sweep = youth_query(SWEEP_QUERY, token=aino_token)

    assert own.json()["data"]["youthProfile"]["membershipNumber"] == "004213"
    assert other.json() == {"data": {"youthProfile": None}}
    assert _error_codes(sweep.json()) == ["PERMISSION_DENIED_ERROR"]


def test_sweep_pages_through_every_member_once(
    youth_query, sandbox: Sandbox, service_token: str
) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(10):  # bounded: 24 members in pages of 10 need 3 requests
        page = youth_query(SWEEP_QUERY, {"after": after}, token=service_token).json()
        connection = page["data"]["youthProfiles"]
        assert connection["totalCount"] == 1 + sandbox.citizens
        seen += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    numbers = [node["membershipNumber"] for node in seen]
    assert len(seen) == 24
    assert numbers == sorted(numbers)
    assert numbers[0] == "004213"
    assert numbers[1:] == [bench_membership_number(index) for index in range(sandbox.citizens)]
    ids = {node["id"] for node in seen}
    assert youth_profile_node_id(bench_citizen(sandbox.citizen_seed, 0)) in ids
    assert {node["membershipStatus"] for node in seen} <= {
        "ACTIVE",
        "PENDING",
        "RENEWING",
        "EXPIRED",
    }


def test_membership_number_filter_finds_one_card(youth_query, service_token: str) -> None:
    page = youth_query(SWEEP_QUERY, {"number": "004213"}, token=service_token).json()

    connection = page["data"]["youthProfiles"]
    assert connection["totalCount"] == 1
    assert connection["edges"][0]["node"]["id"] == youth_profile_node_id(AINO.sub)
