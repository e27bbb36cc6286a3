"""The shared transport: typed errors that say whether they are permanent, an upstream error code
the wallet does not know recorded as a clear failure (never a KeyError or INTERNAL_ERROR), and
pluggable token sources renewed once on a refusal. The simulators over real HTTP; respx only for
the error shapes they cannot produce on demand."""

import httpx
import pytest
import respx

from connectors import errors, services
from connectors.library.client import sierra_error
from connectors.library.services import library_card_link
from connectors.models import SyncRun
from connectors.transport import (
    AccessToken,
    GraphQLErrorConvention,
    ServiceTokens,
    upstream_client,
)
from connectors.youth.connector import YOUTH_ERRORS
from sandbox.demo import AINO, EERO, EERO_LIBRARY
from wallet.models import DataRecord
from wallet.services import citizen_get_or_create

LONG_CODE = "SOMETHING_NEW_" + "X" * 200  # longer than SyncRun.error_code's 64 characters


# --- The error hierarchy (no database) --------------------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "code", "permanent"),
    [
        (errors.UpstreamTimeout, "UPSTREAM_TIMEOUT", False),
        (errors.UpstreamUnreachable, "UPSTREAM_UNREACHABLE", False),
        (errors.UpstreamRateLimited, "UPSTREAM_RATE_LIMITED", False),
        (errors.UpstreamUnavailable, "UPSTREAM_UNAVAILABLE", False),
        (errors.UpstreamCircuitOpen, "UPSTREAM_CIRCUIT_OPEN", False),
        (errors.UpstreamMalformed, "UPSTREAM_MALFORMED", False),
        (errors.UpstreamTruncated, "UPSTREAM_TRUNCATED", False),
        (errors.UpstreamAuthFailed, "UPSTREAM_AUTH_FAILED", True),
        (errors.UpstreamRejected, "UPSTREAM_REJECTED", True),
    ],
)
def test_each_error_class_carries_its_stable_code_and_permanence(error_class, code, permanent):
    error = error_class("safe message")
    assert (error.code, error.permanent, str(error)) == (code, permanent, "safe message")
    base = errors.PermanentUpstreamError if permanent else errors.TransientUpstreamError
    assert isinstance(error, base) and isinstance(error, errors.UpstreamError)


@pytest.mark.parametrize(
    ("code", "error_class", "recorded"),
    [
        ("PERMISSION_DENIED_ERROR", errors.UpstreamRejected, "PERMISSION_DENIED_ERROR"),
        ("OBJECT_DOES_NOT_EXIST_ERROR", errors.UpstreamRejected, "OBJECT_DOES_NOT_EXIST_ERROR"),
        ("GENERAL_ERROR", errors.UpstreamFailed, "GENERAL_ERROR"),
        ("TOKEN_EXPIRED_ERROR", errors.UpstreamAuthFailed, "UPSTREAM_AUTH_FAILED"),
        ("SOMETHING_NEW", errors.UnknownUpstreamError, "UPSTREAM_UNKNOWN_ERROR"),
        (LONG_CODE, errors.UnknownUpstreamError, "UPSTREAM_UNKNOWN_ERROR"),
        (42, errors.UnknownUpstreamError, "UPSTREAM_UNKNOWN_ERROR"),
        ({"nested": ["x"]}, errors.UnknownUpstreamError, "UPSTREAM_UNKNOWN_ERROR"),
        (["PERMISSION_DENIED_ERROR"], errors.UnknownUpstreamError, "UPSTREAM_UNKNOWN_ERROR"),
    ],
)
def test_a_graphql_error_code_maps_to_a_typed_error_and_an_unknown_one_never_raises(
    code, error_class, recorded
):
    error = YOUTH_ERRORS.error("youth", code)
    assert type(error) is error_class and error.code == recorded
    assert len(str(error)) < 200


def test_an_unknown_code_is_named_in_the_message_sanitised_and_shortened():
    error = errors.UnknownUpstreamError("berths", 'EVIL"<script>' + "Z" * 100)
    assert error.permanent and error.code == "UPSTREAM_UNKNOWN_ERROR"
    assert "<" not in str(error) and '"' not in str(error)
    assert error.upstream_code == ("EVILscript" + "Z" * 100)[: errors.MAX_CODE_LENGTH]


def test_errors_that_are_not_a_list_are_a_malformed_answer():
    with pytest.raises(errors.UpstreamMalformed):
        YOUTH_ERRORS.error_codes({"errors": {"code": "X"}}, system="youth")


def test_a_graphql_error_without_its_type_is_the_services_general_error():
    convention = GraphQLErrorConvention(
        key="type", token_expired=frozenset(), permanent=frozenset()
    )
    body = {"errors": [{"message": "x"}, "not an object", {"extensions": "nor this"}]}
    assert convention.error_codes(body, system="berths") == ["GENERAL_ERROR"] * 3


@pytest.mark.parametrize(
    ("body", "error_class", "detail"),
    [
        ({"code": 108, "specificCode": 0}, errors.UpstreamRejected, "code 108/0"),
        ({"code": 999, "specificCode": 3}, errors.UnknownUpstreamError, "999/3"),
        ({"code": {"odd": 1}}, errors.UnknownUpstreamError, "odd"),
        ({"code": [108]}, errors.UnknownUpstreamError, "108"),
        ({"code": True}, errors.UnknownUpstreamError, "True"),
        ({"name": "no code"}, errors.UpstreamRejected, "HTTP 400"),
        ([1, 2], errors.UpstreamRejected, "HTTP 400"),
    ],
)
def test_a_sierra_error_maps_to_a_typed_error_and_an_unknown_one_never_raises(
    body, error_class, detail
):
    error = sierra_error(httpx.Response(400, json=body))
    assert type(error) is error_class and detail in str(error)


class CountingSource:
    """A token source of the test's own: the cache works with any TokenSource."""

    def __init__(self, key: str) -> None:
        self.cache_key = key
        self.fetched = 0

    def fetch(self, client: httpx.Client) -> AccessToken:
        self.fetched += 1
        return AccessToken(f"{self.cache_key}-{self.fetched}", 3600)


def test_tokens_are_cached_per_source_and_renewed_on_demand():
    cache, first, second = ServiceTokens(), CountingSource("a"), CountingSource("b")
    with httpx.Client() as client:
        assert cache.get(source=first, client=client) == "a-1"
        assert cache.get(source=first, client=client) == "a-1"
        assert cache.get(source=second, client=client) == "b-1"
        assert cache.get(source=first, client=client, force_new=True) == "a-2"
        assert cache.get(source=first, client=client) == "a-2"
        cache.clear()
        assert cache.get(source=first, client=client) == "a-3"
    assert (first.fetched, second.fetched) == (3, 1)


# --- Over HTTP: unknown codes become recorded failures ---------------------------------------


def _citizen(sandbox, person):
    return citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))[0]


def _sync(citizen, source):
    [run] = services.citizen_sync(citizen=citizen, trigger="test", sources=[source])
    return run


def _snapshot(citizen, source):
    return {
        row.external_key: (bytes(row.payload), row.state)
        for row in DataRecord.objects.filter(citizen=citizen, source=source)
    }


def _graphql_error(key, code):
    return httpx.Response(200, json={"errors": [{"message": "x", "extensions": {key: code}}]})


def _sierra_error(code, specific):
    body = {"code": code, "specificCode": specific, "httpStatus": 400, "name": "Something new"}
    return httpx.Response(400, json=body)


CASES = {
    "youth": (AINO, "youth_graphql_url", lambda code: _graphql_error("code", code)),
    "berths": (EERO, "berths_graphql_url", lambda code: _graphql_error("type", code)),
    "library": (EERO, "library_base_url", lambda code: _sierra_error(code, 3)),
}


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
@pytest.mark.parametrize("code", ["SOMETHING_NEW", LONG_CODE, 999])
@pytest.mark.parametrize("source", sorted(CASES))
def test_an_unmapped_upstream_error_code_is_a_clear_recorded_failure(sandbox, source, code):
    person, url_name, answer = CASES[source]
    citizen = _citizen(sandbox, person)
    if source == "library":
        library_card_link(citizen=citizen, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    assert _sync(citizen, source).status == SyncRun.Status.SUCCEEDED
    before = _snapshot(citizen, source)

    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=sandbox.token_url).pass_through()
        mock.route(url__startswith=sandbox.library_token_url).pass_through()
        route = mock.route(url__startswith=getattr(sandbox, url_name))
        route.side_effect = lambda request: answer(code)
        failed = _sync(citizen, source)

    assert failed.status == SyncRun.Status.FAILED
    assert failed.error_code == "UPSTREAM_UNKNOWN_ERROR"  # not INTERNAL_ERROR, not a KeyError
    [error] = failed.errors
    assert error["code"] == "UPSTREAM_UNKNOWN_ERROR"
    assert errors.safe_code(code)[:20] in error["message"]
    assert route.call_count == 1, "a permanent error is not retried"
    assert _snapshot(citizen, source) == before, "earlier data stays"
    assert _sync(citizen, source).status == SyncRun.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
def test_library_token_is_renewed_once_on_401_through_the_shared_transport(sandbox, monkeypatch):
    from connectors.library import client as library_client

    fetched = []
    real_fetch = library_client.tokens._fetch
    monkeypatch.setattr(
        library_client.tokens, "_fetch", lambda **kw: fetched.append(1) or real_fetch(**kw)
    )
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    assert _sync(eero, "library").status == SyncRun.Status.SUCCEEDED
    unauthorized = {"code": 123, "specificCode": 0, "httpStatus": 401, "name": "Unauthorized"}

    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=sandbox.library_token_url).pass_through()
        api = mock.route(url__startswith=sandbox.library_base_url)
        # one 401 (the cached token was revoked), then the simulator itself (a request passes)
        answers = [httpx.Response(401, json=unauthorized)]
        api.side_effect = lambda request: answers.pop(0) if answers else request
        fetched.clear()
        renewed = _sync(eero, "library")
    assert renewed.status == SyncRun.Status.SUCCEEDED, renewed.errors
    assert len(fetched) == 1 and not answers  # refused once: one renewal, no more

    library_client.tokens.clear()
    fetched.clear()
    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=sandbox.library_token_url).pass_through()
        api = mock.route(url__startswith=sandbox.library_base_url)
        api.side_effect = lambda request: httpx.Response(401, json=unauthorized)
        refused = _sync(eero, "library")
    assert refused.status == SyncRun.Status.FAILED
    assert refused.error_code == "UPSTREAM_AUTH_FAILED"
    assert api.call_count == 2 and len(fetched) == 2  # a first token and one renewal; no more


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("in_process_tasks")
def test_a_library_404_without_sierras_not_found_code_ends_nothing(sandbox):
    """Only Sierra's own "record not found" (404, code 107) means the patron is gone: a 404 from
    a wrong base URL or a proxy fails the run and keeps every record."""
    eero = _citizen(sandbox, EERO)
    library_card_link(citizen=eero, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
    assert _sync(eero, "library").status == SyncRun.Status.SUCCEEDED
    before = _snapshot(eero, "library")
    assert before and all(state == DataRecord.State.ACTIVE for _, state in before.values())

    with respx.mock(assert_all_called=False) as mock:
        mock.route(url__startswith=sandbox.library_token_url).pass_through()
        api = mock.route(url__startswith=sandbox.library_base_url)
        api.side_effect = lambda request: httpx.Response(404, html="<h1>Not Found</h1>")
        failed = _sync(eero, "library")

    assert failed.status == SyncRun.Status.FAILED
    assert failed.error_code == "UPSTREAM_REJECTED"
    assert _snapshot(eero, "library") == before, "no record ended"
    assert _sync(eero, "library").status == SyncRun.Status.SUCCEEDED


def test_the_upstream_client_keeps_no_cookie_an_answer_sets(sandbox):
    token = sandbox.service_token(scope="youth")["access_token"]
    with upstream_client() as client:
        for _ in range(2):
            response = client.post(
                sandbox.youth_graphql_url,
                json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200 and "set-cookie" in response.headers
            assert "cookie" not in response.request.headers
        assert len(client.cookies) == 0
