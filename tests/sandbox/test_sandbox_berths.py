"""The berth-reservations simulator, over real HTTP with real tokens from the sandbox provider."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from sandbox.demo import (
    AINO,
    BERTHS_AUDIENCE,
    CONNECTOR_CLIENT_ID,
    EERO,
    EERO_BOAT,
    EERO_LEASE,
    SOFIA,
    bench_citizen,
    bench_has_berth,
    berth_lease_node_id,
    berth_profile_node_id,
)
from sandbox.harness import Sandbox

PROFILE_QUERY = """
query Profile($id: ID!) {
  berthProfile(id: $id) {
    id
    boats { edges { node {
      id registrationNumber name boatType { id name } length width draught modifiedAt
    } } }
    berthLeases { totalCount edges { node {
      id status startDate endDate isActive createdAt modifiedAt
      customer { id }
      berth { id number width length depth
        pier { id properties { identifier harbor { id properties { name } } } } }
      order { id orderNumber status price totalPrice dueDate paidAt }
    } } }
  }
}
"""

SWEEP_QUERY = """
query Sweep($first: Int, $after: String, $statuses: [LeaseStatus], $year: Int, $order: String) {
  berthLeases(first: $first, after: $after, statuses: $statuses, startYear: $year,
              orderBy: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id status startDate createdAt modifiedAt customer { id } } }
  }
}
"""


@pytest.fixture(scope="module")
def service_token(sandbox: Sandbox) -> str:
    return str(sandbox.service_token(scope="berths")["access_token"])


def _error_types(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["type"] for error in body.get("errors", [])]


def _without(node: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in node.items() if name not in names}


def _bench_leases(sandbox: Sandbox) -> int:
    return sum(1 for index in range(sandbox.citizens) if bench_has_berth(index))


def test_service_token_reads_eeros_lease_and_boat(berths_query, service_token: str) -> None:
    response = berths_query(
        PROFILE_QUERY, {"id": berth_profile_node_id(EERO.sub)}, token=service_token
    )

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    profile = body["data"]["berthProfile"]
    assert profile["id"] == berth_profile_node_id(EERO.sub)
    boat = EERO_BOAT
    [boat_edge] = profile["boats"]["edges"]
    boat_node = boat_edge["node"]
    assert boat_node["boatType"]["name"] == boat.boat_type
    assert _without(boat_node, "id", "boatType") == {
        "registrationNumber": boat.registration_number,
        "name": boat.name,
        # Decimals are strings, as the real service's graphene.Decimal fields.
        "length": "8.20",
        "width": "2.75",
        "draught": "1.40",
        "modifiedAt": "2026-03-14T12:05:00+00:00",
    }
    lease = EERO_LEASE
    assert profile["berthLeases"]["totalCount"] == 1
    node = profile["berthLeases"]["edges"][0]["node"]
    assert node["id"] == berth_lease_node_id(lease.id)
    assert node["status"] == "PAID"
    assert (node["startDate"], node["endDate"]) == ("2027-06-10", "2027-09-14")
    assert node["isActive"] is True
    assert node["createdAt"] == "2026-11-02T08:00:00+00:00"
    assert node["modifiedAt"] == "2026-11-20T10:15:00+00:00"
    assert node["customer"] == {"id": berth_profile_node_id(EERO.sub)}
    berth = node["berth"]
    # Berth dimensions are Floats upstream (numbers), unlike boats'.
    assert (berth["number"], berth["width"], berth["length"], berth["depth"]) == (
        "14",
        3.0,
        10.0,
        2.0,
    )
    pier = berth["pier"]["properties"]
    assert pier["identifier"] == lease.pier_identifier
    assert pier["harbor"]["properties"] == {"name": lease.harbor}
    order = node["order"]
    assert _without(order, "id") == {
        "orderNumber": lease.order_number,
        "status": "PAID",
        "price": "412.00",
        "totalPrice": "412.00",
        "dueDate": "2026-12-04",
        "paidAt": "2026-11-20T10:15:00+00:00",
    }


def test_unknown_profile_is_null_without_errors(berths_query, service_token: str) -> None:
    # Sofia has no berth; a random UUID is no one.
    for citizen in (SOFIA.sub, uuid.uuid4()):
        response = berths_query(
            PROFILE_QUERY, {"id": berth_profile_node_id(citizen)}, token=service_token
        )

        assert response.json() == {"data": {"berthProfile": None}}


def test_citizen_reads_own_profile_but_not_others_nor_the_sweep(
    berths_query, sandbox: Sandbox
) -> None:
    eero_token = sandbox.password_token("eero", scope="berths")["access_token"]

    own = berths_query(PROFILE_QUERY, {"id": berth_profile_node_id(EERO.sub)}, token=eero_token)
    other = berths_query(
        PROFILE_QUERY,
        {"id": berth_profile_node_id(bench_citizen(sandbox.citizen_seed, 0))},
        token=eero_token,
    )
    sweep = berths_query(SWEEP_QUERY, token=eero_token)

    assert own.json()["data"]["berthProfile"]["berthLeases"]["totalCount"] == 1
    assert _error_types(other.json()) == ["PERMISSION_DENIED"]
    assert other.json()["data"] == {"berthProfile": None}
    assert _error_types(sweep.json()) == ["PERMISSION_DENIED"]


@pytest.mark.parametrize("token", [None, "garbage"])
def test_missing_or_invalid_token_is_not_authenticated(berths_query, token: str | None) -> None:
    response = berths_query(PROFILE_QUERY, {"id": berth_profile_node_id(EERO.sub)}, token=token)

    assert response.status_code == 200
    assert _error_types(response.json()) == ["NOT_AUTHENTICATED"]


def test_token_without_the_berths_audience_is_not_authenticated(
    berths_query, sandbox: Sandbox
) -> None:
    youth_token = sandbox.service_token(scope="youth")["access_token"]

    response = berths_query(SWEEP_QUERY, token=youth_token)

    assert _error_types(response.json()) == ["NOT_AUTHENTICATED"]


def test_expired_token_says_token_expired(berths_query, sandbox: Sandbox) -> None:
    now = int(time.time())
    expired = sandbox.sign_jwt(
        {
            "iss": sandbox.issuer,
            "sub": str(uuid.uuid4()),
            "aud": BERTHS_AUDIENCE,
            "client_id": CONNECTOR_CLIENT_ID,
            "scope": "berths",
            "iat": now - 7200,
            "exp": now - 3600,
        }
    )

    response = berths_query(SWEEP_QUERY, token=expired)

    assert response.status_code == 200
    body = response.json()
    assert _error_types(body) == ["TOKEN_EXPIRED"]
    assert body["data"] == {"berthLeases": None}


@pytest.mark.parametrize(
    "bad_id",
    ["not-base64", berth_profile_node_id("not-a-uuid"), berth_lease_node_id(AINO.sub)],
)
def test_malformed_profile_id_is_a_venepaikka_error(
    berths_query, service_token: str, bad_id: str
) -> None:
    response = berths_query(PROFILE_QUERY, {"id": bad_id}, token=service_token)

    assert _error_types(response.json()) == ["VENEPAIKKA_ERROR"]


def test_malformed_query_is_http_400(berths_query, service_token: str) -> None:
    assert berths_query("{ berthLeases(first: ", token=service_token).status_code == 400


def test_page_size_over_the_limit_is_a_venepaikka_error(berths_query, service_token: str) -> None:
    response = berths_query(SWEEP_QUERY, {"first": 101}, token=service_token)

    assert _error_types(response.json()) == ["VENEPAIKKA_ERROR"]


def test_unknown_order_by_is_a_venepaikka_error(berths_query, service_token: str) -> None:
    response = berths_query(SWEEP_QUERY, {"order": "modifiedAt"}, token=service_token)

    assert _error_types(response.json()) == ["VENEPAIKKA_ERROR"]


@pytest.mark.parametrize("order", [None, "createdAt", "-createdAt"])
def test_sweep_pages_through_every_lease_once(
    berths_query, sandbox: Sandbox, service_token: str, order: str | None
) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(10):  # bounded: 13 leases in pages of 5 need 3 requests
        variables = {"first": 5, "after": after, "order": order}
        connection = berths_query(SWEEP_QUERY, variables, token=service_token).json()["data"][
            "berthLeases"
        ]
        assert connection["totalCount"] == 1 + _bench_leases(sandbox)
        seen += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert len(seen) == 1 + _bench_leases(sandbox) == 13
    assert len({node["id"] for node in seen}) == len(seen)
    customers = {node["customer"]["id"] for node in seen}
    assert berth_profile_node_id(EERO.sub) in customers
    assert berth_profile_node_id(bench_citizen(sandbox.citizen_seed, 0)) in customers
    assert berth_profile_node_id(bench_citizen(sandbox.citizen_seed, 1)) not in customers
    created = [node["createdAt"] for node in seen]
    if order == "createdAt":
        assert created == sorted(created)
    elif order == "-createdAt":
        assert created == sorted(created, reverse=True)
    else:  # upstream's default: latest season first
        starts = [node["startDate"] for node in seen]
        assert starts == sorted(starts, reverse=True)


def test_sweep_filters_by_status_and_start_year(berths_query, service_token: str) -> None:
    response = berths_query(
        SWEEP_QUERY,
        {"first": 100, "statuses": ["PAID"], "year": 2027},
        token=service_token,
    )

    nodes = [edge["node"] for edge in response.json()["data"]["berthLeases"]["edges"]]
    assert nodes
    assert {node["status"] for node in nodes} == {"PAID"}
    assert {node["startDate"][:4] for node in nodes} == {"2027"}
    assert berth_lease_node_id(EERO_LEASE.id) in {node["id"] for node in nodes}


def test_bench_leases_are_modified_over_time(berths_query, service_token: str) -> None:
    # No modified-since filter upstream: clients sweep and compare modifiedAt themselves.
    response = berths_query(SWEEP_QUERY, {"first": 100}, token=service_token)

    modified = {
        edge["node"]["modifiedAt"] for edge in response.json()["data"]["berthLeases"]["edges"]
    }
    assert len(modified) == 13
