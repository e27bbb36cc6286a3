"""The youth connector against the youth-membership simulator over real HTTP; respx only for
fault shapes the simulator cannot produce on demand here."""

import httpx
import pytest
import respx

from connectors import services
from connectors.base import InvalidRecord
from connectors.models import SyncRun
from connectors.youth.connector import parse_youth_profile
from sandbox.demo import AINO, AINO_YOUTH_CARD, SOFIA
from wallet.models import DataRecord
from wallet.selectors import citizen_wallet
from wallet.services import citizen_get_or_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


def _citizen(sandbox, person):
    citizen, _ = citizen_get_or_create(issuer=sandbox.issuer, subject=str(person.sub))
    return citizen


def _sync(citizen):
    [run] = services.citizen_sync(citizen=citizen, trigger="test", sources=["youth"])
    return run


def test_sync_brings_aino_card_sealed_and_a_second_sync_writes_nothing(sandbox):
    aino = _citizen(sandbox, AINO)
    first = _sync(aino)
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    assert (first.fetched, first.created, first.updated) == (1, 1, 0)

    [card] = citizen_wallet(citizen=aino).records(source="youth", kind="membership")
    assert card.payload["membership_number"] == AINO_YOUTH_CARD.membership_number
    assert card.payload["status"] == "ACTIVE"
    assert card.payload["expiration"] == AINO_YOUTH_CARD.expiration.isoformat()
    assert card.payload["approver_email"] == AINO_YOUTH_CARD.approver_email
    assert card.payload["additional_contact_persons"][0]["first_name"] == "Juha"

    second = _sync(aino)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)


def test_citizen_without_a_youth_profile_syncs_to_nothing(sandbox):
    run = _sync(_citizen(sandbox, SOFIA))
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.fetched == 0 and DataRecord.objects.count() == 0


def test_wrong_connector_secret_fails_the_run_with_a_safe_reason(sandbox, settings):
    settings.CONNECTOR_CLIENT_SECRET = "wrong"
    run = _sync(_citizen(sandbox, AINO))
    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "UPSTREAM_AUTH_FAILED"
    assert "wrong" not in str(run.errors)


def _through_token_endpoint(mock, sandbox):
    mock.route(url__startswith=sandbox.token_url).pass_through()


MAX_ATTEMPTS = 3


@pytest.mark.parametrize(
    ("fault", "code", "attempts"),
    [
        # retried: timeouts, connection errors, 429 and 5xx only
        (httpx.Response(500), "UPSTREAM_UNAVAILABLE", MAX_ATTEMPTS),
        (httpx.Response(429, headers={"Retry-After": "0"}), "UPSTREAM_RATE_LIMITED", MAX_ATTEMPTS),
        (httpx.ReadTimeout("timed out"), "UPSTREAM_TIMEOUT", MAX_ATTEMPTS),
        (httpx.ConnectError("refused"), "UPSTREAM_UNREACHABLE", MAX_ATTEMPTS),
        # answered, but not usable: not retried within the run
        (httpx.Response(200, content=b"{not json"), "UPSTREAM_MALFORMED", 1),
        (
            httpx.Response(
                200, json={"errors": [{"message": "x", "extensions": {"code": "GENERAL_ERROR"}}]}
            ),
            "GENERAL_ERROR",
            1,
        ),
        (
            httpx.Response(
                200,
                json={
                    "errors": [{"message": "x", "extensions": {"code": "PERMISSION_DENIED_ERROR"}}]
                },
            ),
            "PERMISSION_DENIED_ERROR",
            1,
        ),
    ],
)
def test_upstream_fault_keeps_earlier_data_and_is_recorded_then_a_rerun_recovers(
    sandbox, settings, fault, code, attempts
):
    settings.CONNECTOR_BACKOFF_BASE_SECONDS = 0.001
    settings.CONNECTOR_MAX_ATTEMPTS = MAX_ATTEMPTS
    aino = _citizen(sandbox, AINO)
    assert _sync(aino).status == SyncRun.Status.SUCCEEDED
    before = DataRecord.objects.get()

    with respx.mock(assert_all_called=False) as mock:
        _through_token_endpoint(mock, sandbox)
        route = mock.post(sandbox.youth_graphql_url)
        route.side_effect = fault if isinstance(fault, Exception) else (lambda request: fault)
        failed = _sync(aino)
    assert failed.status == SyncRun.Status.FAILED
    assert failed.error_code == code
    assert route.call_count == attempts
    after = DataRecord.objects.get()
    assert (bytes(after.payload), after.state) == (bytes(before.payload), DataRecord.State.ACTIVE)

    recovered = _sync(aino)
    assert recovered.status == SyncRun.Status.SUCCEEDED and recovered.unchanged == 1


def test_transient_failure_then_success_is_retried_within_one_run(sandbox, settings):
    settings.CONNECTOR_BACKOFF_BASE_SECONDS = 0.001
    aino = _citizen(sandbox, AINO)
    with respx.mock(assert_all_called=False) as mock:
        _through_token_endpoint(mock, sandbox)
        route = mock.post(sandbox.youth_graphql_url)
        route.side_effect = [
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(200, json={"data": {"youthProfile": None}}),
        ]
        run = _sync(aino)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert route.call_count == 3


def test_expired_token_answer_renews_the_token_once(sandbox, monkeypatch):
    from connectors import transport

    aino = _citizen(sandbox, AINO)
    fetched_tokens = []
    real_fetch = transport.service_tokens._fetch
    monkeypatch.setattr(
        transport.service_tokens,
        "_fetch",
        lambda **kw: fetched_tokens.append(1) or real_fetch(**kw),
    )
    expired = {"errors": [{"message": "expired", "extensions": {"code": "TOKEN_EXPIRED_ERROR"}}]}
    with respx.mock(assert_all_called=False) as mock:
        _through_token_endpoint(mock, sandbox)
        route = mock.post(sandbox.youth_graphql_url)
        route.side_effect = [
            httpx.Response(200, json=expired),
            httpx.Response(200, json={"data": {"youthProfile": None}}),
        ]
        run = _sync(aino)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert len(fetched_tokens) == 2  # the first, and one renewal after TOKEN_EXPIRED_ERROR


def test_schema_drift_in_a_record_is_recorded_and_earlier_data_stays(sandbox):
    aino = _citizen(sandbox, AINO)
    _sync(aino)
    before = bytes(DataRecord.objects.get().payload)
    drifted = {
        "data": {
            "youthProfile": {"id": "x", "membershipNumber": 4213, "membershipStatus": "ACTIVE"}
        }
    }
    with respx.mock(assert_all_called=False) as mock:
        _through_token_endpoint(mock, sandbox)
        mock.post(sandbox.youth_graphql_url).respond(200, json=drifted)
        run = _sync(aino)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == 1 and run.errors == [
        {"code": "INVALID_RECORD", "message": "youth.membership: membershipNumber is not a string"}
    ]
    row = DataRecord.objects.get()
    assert bytes(row.payload) == before and row.state == DataRecord.State.ACTIVE


@pytest.mark.parametrize(
    "node",
    [
        None,
        [],
        {"id": "x", "membershipStatus": "ACTIVE"},
        {"id": "x", "membershipNumber": "1", "membershipStatus": "GONE"},
        {
            "id": "x",
            "membershipNumber": "1",
            "membershipStatus": "ACTIVE",
            "expiration": "31.8.2027",
        },
        {
            "id": "x",
            "membershipNumber": "1",
            "membershipStatus": "ACTIVE",
            "photoUsageApproved": "yes",
        },
    ],
)
def test_parser_refuses_records_that_break_the_contract(node):
    with pytest.raises(InvalidRecord):
        parse_youth_profile(node)
