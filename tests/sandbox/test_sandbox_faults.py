"""Faults of the upstream simulators: every kind on every system, switched from the harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.demo import (
    AINO,
    EERO,
    EERO_LIBRARY,
    berth_profile_node_id,
    youth_profile_node_id,
)
from sandbox.faults import Fault, FaultKind, FaultSpecError, parse_faults
from sandbox.harness import Sandbox, SandboxStartError, start_sandbox
from sandbox.middleware import FAULT_HEADER

PAGE = 4  # every list below is asked for 4 records and has more than 4
CLIENT_TIMEOUT = 5.0
SHORT_CLIENT_TIMEOUT = 0.3  # what a "timeout" fault (held for FAULT_TIMEOUT) must outlast
FAULT_TIMEOUT = 1.0

Request = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(
        citizens=9,
        faults="berths:500:1.0",  # proves the start-up spec; the first test clears it
        extra_env={"SANDBOX_FAULT_TIMEOUT_SECONDS": str(FAULT_TIMEOUT)},
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults_left_behind(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.clear_faults()


@dataclass(frozen=True)
class Upstream:
    """How to ask one system for a page of records, or for one record, and read the answer."""

    list_page: Request  # both take an optional ``timeout``
    one_record: Request
    records: Callable[[Any], list[dict[str, Any]]]  # the page's records, from the decoded body
    claims_more: Callable[[Any], bool]  # does the page say there is more than it holds?
    record: Callable[[Any], dict[str, Any]]  # the single record, from the decoded body
    drifted: Callable[[dict[str, Any]], bool]  # has a field of a listed record changed type?
    required_field: str


def _edges(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def _graphql(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Request:
    def post(timeout: float = CLIENT_TIMEOUT) -> httpx.Response:
        return httpx.post(
            url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    return post


@pytest.fixture(scope="module")
def upstreams(sandbox: Sandbox) -> dict[str, Upstream]:
    youth_token = sandbox.service_token(scope="youth")["access_token"]
    berths_token = sandbox.service_token(scope="berths")["access_token"]
    library_token = sandbox.library_token()["access_token"]

    def library(path: str, params: dict[str, Any]) -> Request:
        def get(timeout: float = CLIENT_TIMEOUT) -> httpx.Response:
            return httpx.get(
                f"{sandbox.library_base_url}/{path}",
                params=params,
                headers={"Authorization": f"Bearer {library_token}"},
                timeout=timeout,
            )

        return get

    youth_list = (
        f"{{ youthProfiles(first: {PAGE}) {{ pageInfo {{ hasNextPage }} "
        "edges { node { id membershipNumber } } } }"
    )
    youth_one = "query($id: ID!) { youthProfile(id: $id) { id membershipNumber schoolName } }"
    berths_list = (
        f"{{ berthLeases(first: {PAGE}) {{ pageInfo {{ hasNextPage }} "
        "edges { node { id status startDate } } } }"
    )
    berths_one = (
        "query($id: ID!) { berthProfile(id: $id) { id "
        "berthLeases { edges { node { id status startDate } } } } }"
    )
    return {
        "youth": Upstream(
            list_page=_graphql(sandbox.youth_graphql_url, youth_token, youth_list),
            one_record=_graphql(
                sandbox.youth_graphql_url,
                youth_token,
                youth_one,
                {"id": youth_profile_node_id(AINO.sub)},
            ),
            records=lambda body: _edges(body["data"]["youthProfiles"]),
            claims_more=lambda body: body["data"]["youthProfiles"]["pageInfo"]["hasNextPage"],
            record=lambda body: body["data"]["youthProfile"],
            drifted=lambda node: isinstance(node["membershipNumber"], int),
            required_field="membershipNumber",
        ),
        "berths": Upstream(
            list_page=_graphql(sandbox.berths_graphql_url, berths_token, berths_list),
            one_record=_graphql(
                sandbox.berths_graphql_url,
                berths_token,
                berths_one,
                {"id": berth_profile_node_id(EERO.sub)},
            ),
            records=lambda body: _edges(body["data"]["berthLeases"]),
            claims_more=lambda body: body["data"]["berthLeases"]["pageInfo"]["hasNextPage"],
            record=lambda body: _edges(body["data"]["berthProfile"]["berthLeases"])[0],
            drifted=lambda node: isinstance(node["startDate"], int),
            required_field="status",
        ),
        "library": Upstream(
            list_page=library("patrons", {"limit": PAGE, "fields": "id,names"}),
            one_record=library(f"patrons/{EERO_LIBRARY.patron_id}", {}),
            records=lambda body: body["entries"],
            claims_more=lambda body: body["total"] > len(body["entries"]),
            record=lambda body: body,
            drifted=lambda entry: isinstance(entry["names"], str),
            required_field="id",
        ),
    }


SYSTEMS = ("youth", "berths", "library")


def test_faults_given_at_start_are_active(sandbox: Sandbox, upstreams: dict[str, Upstream]) -> None:
    assert sandbox.faults() == "berths:500:1"
    assert upstreams["berths"].list_page().status_code == 500


def test_clearing_faults_restores_normal_answers(
    sandbox: Sandbox, upstreams: dict[str, Upstream]
) -> None:
    sandbox.clear_faults()

    assert sandbox.faults() == ""
    for system in SYSTEMS:
        response = upstreams[system].list_page()
        assert response.status_code == 200
        assert FAULT_HEADER not in response.headers
        assert len(upstreams[system].records(response.json())) == PAGE


@pytest.mark.parametrize("system", SYSTEMS)
def test_500(sandbox: Sandbox, upstreams: dict[str, Upstream], system: str) -> None:
    sandbox.set_faults(f"{system}:500:1.0")

    response = upstreams[system].list_page()

    assert response.status_code == 500
    assert response.headers[FAULT_HEADER] == f"{system}:500:1"


@pytest.mark.parametrize("system", SYSTEMS)
def test_429_says_when_to_retry(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    sandbox.set_faults(f"{system}:429:1.0")

    response = upstreams[system].list_page()

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("system", SYSTEMS)
def test_timeout_outlasts_the_clients_read_timeout(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    sandbox.set_faults(f"{system}:timeout:1.0")

    with pytest.raises(httpx.ReadTimeout):
        upstreams[system].list_page(timeout=SHORT_CLIENT_TIMEOUT)


@pytest.mark.parametrize("system", SYSTEMS)
def test_malformed_is_200_with_a_body_that_is_not_json(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    sandbox.set_faults(f"{system}:malformed:1.0")

    response = upstreams[system].list_page()

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize("system", SYSTEMS)
def test_drift_changes_a_fields_type(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    upstream = upstreams[system]
    assert not any(upstream.drifted(node) for node in upstream.records(upstream.list_page().json()))
    sandbox.set_faults(f"{system}:drift:1.0")

    body = upstream.list_page().json()

    assert all(upstream.drifted(node) for node in upstream.records(body))


@pytest.mark.parametrize("system", SYSTEMS)
def test_truncate_gives_a_short_page_that_claims_more(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    sandbox.set_faults(f"{system}:truncate:1.0")
    upstream = upstreams[system]

    body = upstream.list_page().json()

    assert len(upstream.records(body)) < PAGE
    assert upstream.claims_more(body)


@pytest.mark.parametrize("system", SYSTEMS)
def test_truncate_drops_a_required_field_of_a_single_record(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    upstream = upstreams[system]
    assert upstream.required_field in upstream.record(upstream.one_record().json())
    sandbox.set_faults(f"{system}:truncate:1.0")

    record = upstream.record(upstream.one_record().json())

    assert upstream.required_field not in record


@pytest.mark.parametrize("system", SYSTEMS)
def test_duplicate_repeats_a_record_in_a_page(
    sandbox: Sandbox, upstreams: dict[str, Upstream], system: str
) -> None:
    sandbox.set_faults(f"{system}:duplicate:1.0")
    upstream = upstreams[system]

    records = upstream.records(upstream.list_page().json())

    ids = [record["id"] for record in records]
    assert len(ids) == PAGE + 1
    assert len(set(ids)) == PAGE


def test_faults_hit_only_the_named_system(sandbox: Sandbox, upstreams: dict[str, Upstream]) -> None:
    sandbox.set_faults("youth:500:1.0")

    assert upstreams["youth"].list_page().status_code == 500
    assert upstreams["berths"].list_page().status_code == 200
    assert upstreams["library"].list_page().status_code == 200


def test_provider_and_library_token_endpoint_are_never_hit(sandbox: Sandbox) -> None:
    sandbox.set_faults("youth:500:1.0,berths:500:1.0,library:500:1.0")

    assert httpx.get(sandbox.discovery_url).status_code == 200
    assert sandbox.service_token(scope="berths")["access_token"]
    assert sandbox.library_token()["access_token"]


def _statuses(upstream: Upstream, count: int) -> list[int]:
    return [upstream.list_page().status_code for _ in range(count)]


def test_same_request_sequence_sees_the_same_faults(
    sandbox: Sandbox, upstreams: dict[str, Upstream]
) -> None:
    spec = "library:500:0.3,library:429:0.3"
    sandbox.set_faults(spec)
    first = _statuses(upstreams["library"], 20)
    sandbox.set_faults(spec)  # setting a spec starts the counters again

    second = _statuses(upstreams["library"], 20)

    assert first == second
    assert {200, 429, 500} <= set(first)  # a mix, at these rates


def test_rate_zero_never_fires_and_rates_are_roughly_kept(
    sandbox: Sandbox, upstreams: dict[str, Upstream]
) -> None:
    sandbox.set_faults("youth:500:0")
    assert set(_statuses(upstreams["youth"], 10)) == {200}

    sandbox.set_faults("youth:500:0.5")
    statuses = _statuses(upstreams["youth"], 40)

    assert 8 <= statuses.count(500) <= 32


def test_fault_switch_shows_and_refuses_bad_specs(sandbox: Sandbox) -> None:
    sandbox.set_faults("youth:drift:0.25, library:timeout:1")

    shown = httpx.get(sandbox.faults_url).json()
    refused = httpx.post(sandbox.faults_url, json={"faults": "youth:500:2"})
    not_a_spec = httpx.post(sandbox.faults_url, json={"spec": "youth:500:1"})

    assert shown["faults"] == "youth:drift:0.25,library:timeout:1"
    assert shown["active"] == [
        {"system": "youth", "kind": "drift", "rate": 0.25},
        {"system": "library", "kind": "timeout", "rate": 1.0},
    ]
    assert refused.status_code == 400
    assert "between 0 and 1" in refused.json()["error"]
    assert not_a_spec.status_code == 400
    assert sandbox.faults() == "youth:drift:0.25,library:timeout:1"  # unchanged by refusals
    with pytest.raises(ValueError, match="unknown kind"):
        sandbox.set_faults("youth:slow:1")


def test_parse_faults_reads_the_spec() -> None:
    assert parse_faults("") == ()
    assert parse_faults(" youth:500:0.2 , library:429:1 ,") == (
        Fault("youth", FaultKind.SERVER_ERROR, 0.2),
        Fault("library", FaultKind.RATE_LIMITED, 1.0),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("youth:500", "expected system:kind:rate"),
        ("youth:500:0.1:extra", "expected system:kind:rate"),
        ("sports:500:0.1", "unknown system 'sports'"),
        ("youth:503:0.1", "unknown kind '503'"),
        ("youth:500:often", "is not a number"),
        ("youth:500:1.5", "between 0 and 1"),
        ("youth:500:-0.1", "between 0 and 1"),
        ("youth:500:nan", "between 0 and 1"),
    ],
)
def test_parse_faults_rejects_bad_specs_clearly(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_faults(spec)


def test_start_sandbox_refuses_a_bad_faults_argument_before_starting() -> None:
    with pytest.raises(FaultSpecError, match="unknown system"):
        start_sandbox(faults="sports:500:1")


def test_a_bad_sandbox_faults_env_stops_the_sandbox_with_the_reason() -> None:
    with pytest.raises(SandboxStartError, match=r"SANDBOX_FAULTS: 'youth:500:2'.*between 0 and 1"):
        start_sandbox(extra_env={"SANDBOX_FAULTS": "youth:500:2"})
