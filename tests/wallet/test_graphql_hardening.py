"""Hostile and malformed requests to /graphql/: each is a 4xx with a stable code, fast, and
leaves nothing behind (no traceback in the log, no cached document).

Each test here is a reproducer from an outside probe of the wallet."""

from __future__ import annotations

import json
import logging
import tracemalloc

import pytest
from django.test import Client

from tests.factories import CitizenFactory
from wallet.graphql import documents
from wallet.graphql.documents import DOCUMENT_BYTES_PER_CHARACTER, document_cache

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def empty_document_cache():
    document_cache.clear()
    yield
    document_cache.clear()


@pytest.fixture
def no_error_logs(caplog):
    """Bad input is the client's fault: nothing of it is logged as an error."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/graphql/", data, content_type=content_type, **extra)


def _error_code(response):
    return response.json()["errors"][0]["extensions"]["code"]


def _fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels fields once expanded."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return " ".join(["{ ...F0 }", *fragments, f"fragment F{levels} on Query {{ __typename }}"])


@pytest.fixture
def signed_in():
    client = Client()
    client.force_login(CitizenFactory())
    return client


@pytest.fixture
def admin():
    client = Client()
    client.force_login(CitizenFactory(is_staff=True))
    return client


# --- 1. Validation is linear; limits per operation -----------------------------------------------


@pytest.mark.usefixtures("no_error_logs")
def test_a_fragment_bomb_is_refused_without_expanding_it():
    # 2**60 fields once expanded: a walk that re-visits fragments would never finish.
    response = Client().get("/graphql/", {"query": _fragment_bomb(60)})
    assert response.status_code == 400
    assert _error_code(response) == "QUERY_TOO_COSTLY"
    assert "more than" in response.json()["errors"][0]["message"]


@pytest.mark.usefixtures("no_error_logs")
def test_the_probe_fragment_bomb_is_refused():
    response = Client().get("/graphql/", {"query": _fragment_bomb(21)})
    assert response.status_code == 400
    assert _error_code(response) == "QUERY_TOO_COSTLY"


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize(
    "query",
    [
        "{ ...A } fragment A on Query { ...A }",  # a cycle: was a RecursionError and a 500
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{ ...X }",  # unknown: was a KeyError and a 500
        "{ nothingHere }",
    ],
)
def test_documents_graphql_itself_refuses_are_400s(query):
    response = Client().get("/graphql/", {"query": query})
    assert response.status_code == 400
    assert _error_code(response) == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.usefixtures("no_error_logs")
def test_syntax_errors_and_absurd_nesting_are_400s():
    assert _error_code(Client().get("/graphql/", {"query": "{ me {"})) == "GRAPHQL_PARSE_FAILED"
    nested = "{" + "... on Query {" * 1200 + "__typename" + "}" * 1201
    response = _post(Client(), {"query": nested})
    assert response.status_code == 400
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(500))
    response = _post(
        Client(), {"query": f"{{ ...F0 }} {chain} fragment F500 on Query {{ a: __typename }}"}
    )
    assert response.status_code == 400


def test_depth_counts_through_fragments(client, settings):
    settings.GRAPHQL_MAX_DEPTH = 2
    query = "{ ...M } fragment M on Query { me { youthMembership { origin { source } } } }"
    response = _post(client, {"query": query})
    assert response.status_code == 400 and _error_code(response) == "QUERY_TOO_DEEP"
    shallow = "{ ...M } fragment M on Query { me { youthMembership { status } } }"
    assert _post(client, {"query": shallow}).status_code != 400


def test_aliases_are_limited_per_operation(client, settings):
    settings.GRAPHQL_MAX_ALIASES = 20
    allowed = "{ " + " ".join(f"a{i}: __typename" for i in range(20)) + " }"
    assert _post(client, {"query": allowed}).json()["data"]["a19"] == "Query"
    too_many = "{ " + " ".join(f"a{i}: __typename" for i in range(420)) + " }"
    response = _post(client, {"query": too_many})
    assert response.status_code == 400 and _error_code(response) == "TOO_MANY_ALIASES"
    # ... also when hidden in a fragment spread many times
    spread = "{ ...A ...A2 } fragment A on Query { x: __typename y: __typename } "
    spread += "fragment A2 on Query { " + " ".join(f"b{i}: __typename" for i in range(19)) + " }"
    assert _error_code(_post(client, {"query": spread})) == "TOO_MANY_ALIASES"


def test_cost_counts_page_sizes_and_variables_at_their_largest(signed_in, settings):
    # me 1 + accessLog (1 + page x (edges 1 + cursor 1))
    settings.GRAPHQL_MAX_COST = 100
    small = "{ me { accessLog(first: 5) { edges { cursor } } } }"
    assert _post(signed_in, {"query": small}).json()["data"]["me"]["accessLog"]["edges"] == []
    large = "{ me { accessLog(first: 100) { edges { cursor } } } }"
    response = _post(signed_in, {"query": large})
    assert response.status_code == 400 and _error_code(response) == "QUERY_TOO_COSTLY"
    by_variable = "query($n: Int) { me { accessLog(first: $n) { edges { cursor } } } }"
    response = _post(signed_in, {"query": by_variable, "variables": {"n": 5}})
    assert _error_code(response) == "QUERY_TOO_COSTLY"  # the variable could be 100


def test_cost_of_unpaged_lists_uses_the_assumed_list_size(signed_in, settings):
    settings.GRAPHQL_MAX_COST = 50
    query = "{ me { consents { id history { state recordedAt } } } }"
    settings.GRAPHQL_LIST_COST = 2  # 1 + (1 + 2 x (1 + 1 + 2 x 2)) = 14
    assert _post(signed_in, {"query": query}).json()["data"]["me"]["consents"] == []
    settings.GRAPHQL_LIST_COST = 20  # 1 + (1 + 20 x (1 + 1 + 20 x 2)) = 842
    assert _error_code(_post(signed_in, {"query": query})) == "QUERY_TOO_COSTLY"


@pytest.mark.usefixtures("no_error_logs")
def test_citizen_data_at_most_once_per_operation():
    twice = (
        '{ a: citizenData(citizenId: "x") { requestId } '
        'b: citizenData(citizenId: "y") { requestId } }'
    )
    response = _post(Client(), {"query": twice})
    assert response.status_code == 400 and _error_code(response) == "TOO_MANY_LOGGED_READS"
    in_fragments = (
        '{ ...R ...R2 } fragment R on Query { citizenData(citizenId: "x") { requestId } }'
    )
    in_fragments += ' fragment R2 on Query { c: citizenData(citizenId: "x") { requestId } }'
    assert _error_code(_post(Client(), {"query": in_fragments})) == "TOO_MANY_LOGGED_READS"


def test_each_limit_is_a_setting(client, settings):
    twice = '{ a: citizenData(citizenId: "x") { requestId } '
    twice += 'b: citizenData(citizenId: "y") { requestId } }'
    assert _post(client, {"query": twice}).status_code == 400
    settings.GRAPHQL_MAX_LOGGED_READS = 2
    # within the limits now: it runs, and without a service token is refused as unauthenticated
    assert _post(client, {"query": twice}).status_code == 401


# --- 2. The parsed-document cache ---------------------------------------------------------------


def _distinct_query(n: int, size: int) -> str:
    """A valid document of about `size` characters, different for every n: named operations,
    each well within every limit; the first is `Q<n>x0`."""
    operations: list[str] = []
    while sum(len(o) + 1 for o in operations) < size:
        operations.append(
            f"query Q{n}x{len(operations)} {{ me {{ profile {{ firstName lastName email "
            "sources { fieldId updatedAt } } youthMembership { status expiration } } }"
        )
    return " ".join(operations)


def _run(client, n: int, size: int):
    return _post(client, {"query": _distinct_query(n, size), "operationName": f"Q{n}x0"})


def test_only_valid_documents_are_cached(signed_in):
    _post(signed_in, {"query": "{ ...X }"})
    _post(signed_in, {"query": "{ me {"})
    assert document_cache.stats()["entries"] == 0
    _post(signed_in, {"query": "{ __typename }"})
    assert document_cache.stats()["entries"] == 1
    # a cached document still gets the same answer
    assert _post(signed_in, {"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}


def test_the_cache_is_bounded_in_bytes_and_entries(signed_in, settings):
    settings.GRAPHQL_DOCUMENT_CACHE_MB = 4
    settings.GRAPHQL_DOCUMENT_CACHE_ENTRIES = 1000
    for n in range(30):  # 30 x 2,000 characters x 150 bytes: 9 MB estimated
        assert _run(signed_in, n, 2_000).status_code == 200
    stats = document_cache.stats()
    assert 0 < stats["bytes"] <= 4 * 1024 * 1024
    assert stats["entries"] < 30
    settings.GRAPHQL_DOCUMENT_CACHE_ENTRIES = 3
    _run(signed_in, 99, 100)
    assert document_cache.stats()["entries"] == 3


def test_callers_without_credentials_get_a_small_share(signed_in, settings):
    settings.GRAPHQL_DOCUMENT_CACHE_MB = 10
    settings.GRAPHQL_DOCUMENT_CACHE_ANONYMOUS_SHARE = 0.1  # 1 MiB
    for n in range(40):
        assert _run(Client(), n, 1_000).status_code == 401  # asks for `me`: but valid
    stats = document_cache.stats()
    assert 0 < stats["anonymous_bytes"] <= 1024 * 1024
    # signed-in callers' documents are not pushed out by anonymous ones
    _post(signed_in, {"query": "{ me { profile { firstName } } }"})
    for n in range(40, 80):
        _run(Client(), n, 1_000)
    assert document_cache.stats()["entries"] - document_cache.stats()["anonymous_entries"] == 1


def test_the_byte_estimate_covers_what_a_document_really_holds(signed_in):
    query = _distinct_query(1, 20_000)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        documents.document_prepare(
            _schema(),
            query,
            allow_introspection=False,
            anonymous=False,
        )
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert 0 < held <= len(query) * DOCUMENT_BYTES_PER_CHARACTER
    assert document_cache.stats()["bytes"] == len(query) * DOCUMENT_BYTES_PER_CHARACTER


def _schema():
    from wallet.schema import schema

    return schema.graphql_schema


# --- 3. Input errors are 400s or BAD_USER_INPUT --------------------------------------------------


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": 123}, "`query` must be a string."),
        ({"query": ["{ __typename }"]}, "`query` must be a string."),
        ({"query": {"a": 1}}, "`query` must be a string."),
        ({"query": "{ __typename }", "variables": [1]}, "`variables` must be a JSON object."),
        ({"query": "{ __typename }", "variables": "[1]"}, "`variables` must be a JSON object."),
        ({"query": "{ __typename }", "operationName": 5}, "`operationName` must be a string."),
        ([{"query": "{ __typename }"}], "The received data is not a valid JSON query."),
    ],
)
def test_wrongly_shaped_requests_are_400s(body, message):
    response = _post(Client(), body)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "message": message,
        "extensions": {"code": "BAD_USER_INPUT"},
    }


@pytest.mark.usefixtures("no_error_logs")
def test_a_body_that_is_not_utf8_is_a_400_that_echoes_nothing():
    for content_type in ("application/json", "application/graphql"):
        response = _post(Client(), b'{"query": "\xff\xfe{ __typename }"}', content_type)
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["message"] == "The request body is not valid UTF-8."
        assert "codec" not in response.content.decode() and "0xff" not in response.content.decode()


@pytest.mark.usefixtures("no_error_logs")
def test_json_nested_past_the_parser_is_a_400():
    body = '{"query": "{ __typename }", "variables": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = _post(Client(), body)
    assert response.status_code == 400


ACCESS_LOG_PAGE = "query($n: Int) { me { accessLog(first: $n) { edges { cursor } } } }"
REQUEST_EXPIRING = (
    'mutation($e: DateTime) { requestConsent(fields: ["profile.email"], purpose: "x", '
    'redirectUri: "http://x", expiresAt: $e) { errors { code } } }'
)
CONSENT_REQUEST_BY_ID = "query($i: String!) { consentRequest(id: $i) { state } }"


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (ACCESS_LOG_PAGE, {"n": "abc"}, "BAD_USER_INPUT"),
        (ACCESS_LOG_PAGE.replace("Int)", "Int!)"), {}, "BAD_USER_INPUT"),
        (ACCESS_LOG_PAGE, {"n": 2**40}, "BAD_USER_INPUT"),
        (REQUEST_EXPIRING, {"e": "garbage"}, "BAD_USER_INPUT"),
        (REQUEST_EXPIRING, {"e": 12}, "BAD_USER_INPUT"),
        ('{ consentRequest(id: "a\\u0000b") { state } }', None, "BAD_USER_INPUT"),
        (CONSENT_REQUEST_BY_ID, {"i": "a\x00b"}, "BAD_USER_INPUT"),
        (CONSENT_REQUEST_BY_ID, {"i": "\ud800"}, "BAD_USER_INPUT"),
        (CONSENT_REQUEST_BY_ID, {"i\x00": "x"}, "BAD_USER_INPUT"),
        ('{ consentRequest(id: "\\udc00") { state } }', None, "GRAPHQL_PARSE_FAILED"),
    ],
)
def test_bad_values_are_400s_not_internal_errors(signed_in, query, variables, code):
    response = _post(signed_in, {"query": query, "variables": variables})
    assert response.status_code == 400, response.content
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {code}


@pytest.mark.usefixtures("no_error_logs")
def test_bad_values_in_literals_are_validation_errors(signed_in):
    query = 'mutation { requestConsent(fields: ["profile.email"], purpose: "x", '
    query += 'redirectUri: "http://x", expiresAt: "garbage") { errors { code } } }'
    response = _post(signed_in, {"query": query})
    assert response.status_code == 400
    assert _error_code(response) == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.usefixtures("no_error_logs")
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 1000", "`first` must be between 0 and 100."),
        ("first: -1", "`first` must be between 0 and 100."),
        ("last: 101", "`last` must be between 0 and 100."),
        ('before: ""', "The `before` cursor is not valid."),
        ('after: "not a cursor"', "The `after` cursor is not valid."),
        ("offset: -3", "`offset` must not be negative."),
        (
            'offset: 1, before: "YXJyYXljb25uZWN0aW9uOjE="',
            "`offset` and `before` cannot be used together.",
        ),
    ],
)
def test_bad_page_arguments_are_bad_user_input_after_the_permission_check(
    admin, arguments, message
):
    query = f"{{ syncRuns({arguments}) {{ edges {{ node {{ id }} }} }} }}"
    # not an admin: the permission check answers first, whatever the arguments
    anonymous = _post(Client(), {"query": query})
    assert _error_code(anonymous) == "UNAUTHENTICATED"
    citizen = Client()
    citizen.force_login(CitizenFactory())
    assert _error_code(_post(citizen, {"query": query})) == "PERMISSION_DENIED"
    # the admin learns what is wrong with the arguments
    error = _post(admin, {"query": query}).json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == message


def test_good_page_arguments_still_page(admin):
    query = '{ syncRuns(first: 2, after: "YXJyYXljb25uZWN0aW9uOjA=") { edges { node { id } } } }'
    assert _post(admin, {"query": query}).json() == {"data": {"syncRuns": {"edges": []}}}


def test_real_faults_are_still_internal_errors(admin, monkeypatch, caplog):
    from connectors import selectors

    def broken(**_):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("connectors.graphql.queries.connector_states", broken)
    assert selectors  # the real selector stays untouched
    body = _post(admin, {"query": "{ connectors { source } }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    assert "secret detail" not in json.dumps(body)
    assert "RuntimeError" in caplog.text


# --- 6. Unauthenticated calls get 401 -----------------------------------------------------------


def test_a_post_with_neither_token_nor_session_is_a_json_401():
    response = _post(Client(enforce_csrf_checks=True), {"query": "{ me { profile { email } } }"})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _error_code(response) == "UNAUTHENTICATED"


def test_an_anonymous_query_for_a_citizen_field_is_a_401_with_the_graphql_answer():
    response = Client().get("/graphql/", {"query": "{ me { profile { email } } }"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["data"] == {"me": None}


def test_a_signed_in_session_without_csrf_token_is_a_json_403():
    client = Client(enforce_csrf_checks=True)
    client.force_login(CitizenFactory())
    response = _post(client, {"query": "{ me { profile { email } } }"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert _error_code(response) == "PERMISSION_DENIED"


@pytest.mark.usefixtures("no_error_logs")
def test_access_log_page_arguments(signed_in):
    page = (
        "query($n: Int, $a: String) { me { accessLog(first: $n, after: $a) { edges { cursor } } } }"
    )
    # an explicit null is the default page (found by the fuzzer: it was a TypeError)
    body = _post(signed_in, {"query": page, "variables": {"n": None}}).json()
    assert body == {"data": {"me": {"accessLog": {"edges": []}}}}
    for variables, message in [
        ({"n": 101}, "`first` must be between 0 and 100."),
        ({"n": -1}, "`first` must be between 0 and 100."),
        ({"a": "bm90IGEgY3Vyc29y"}, "The `after` cursor is not valid."),
    ]:
        error = _post(signed_in, {"query": page, "variables": variables}).json()["errors"][0]
        assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", message)
