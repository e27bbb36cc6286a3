"""Many services' reads of one citizen at the same moment on PostgreSQL: every read answers, and
each leaves exactly one entry in the citizen's access log, whose chain still verifies.

Each reader thread has its own database connections (and over HTTP, the live server serves each
request in a thread of its own); a barrier starts them together, and the test runs with real
commits (`transaction=True`), so the appends meet in PostgreSQL as they would in production.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from django.conf import settings
from django.db import connections

from consent.models import Service
from consent.services import citizen_data_read, consent_request_create, consent_request_decide
from sandbox.demo import AINO
from tests.consent.conftest import CITIZEN_DATA, REDIRECT_URIS, grant
from wallet.access_log import access_log_page, access_log_verify
from wallet.models import AccessLogHead, Citizen
from wallet.services import citizen_get_or_create, profile_update_from_claims

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

READERS = 16
READS_EACH = 5
FIELDS = ["profile.first_name", "profile.email"]  # in demo-service's registration order


def read_together(read: Callable[[str], list[str]]) -> list[str]:
    """`read(request_id)` READS_EACH times in each of READERS threads, all started at once; the
    request ids of the reads, after asserting that every one of them answered with the fields."""
    barrier = threading.Barrier(READERS)
    request_ids: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def reader(number: int) -> None:
        try:
            for alias in ("default", "keys"):  # connect before the start: the reads meet
                connections[alias].ensure_connection()
            barrier.wait(timeout=60)
            for n in range(READS_EACH):
                request_id = f"reader-{number}-read-{n}"
                granted = read(request_id)
                assert granted == FIELDS, granted
                with lock:
                    request_ids.append(request_id)
        except BaseException as error:  # reported by the main thread
            barrier.abort()
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a reader did not finish"
    assert failures == [], failures
    assert len(request_ids) == READERS * READS_EACH
    return request_ids


def assert_one_entry_per_read(citizen: Citizen, request_ids: list[str]) -> None:
    assert list(access_log_verify()) == []
    assert AccessLogHead.objects.get(citizen_id=citizen.pk).seq == len(request_ids)
    page = access_log_page(citizen=citizen, first=len(request_ids))
    assert not page.has_next_page
    logged = Counter(item.details["request_id"] for item in page.items)
    assert logged == Counter(request_ids)
    assert [item.seq for item in page.items] == list(range(len(request_ids), 0, -1))


def test_concurrent_reads_of_one_citizen_all_answer_and_are_each_logged_once(
    postgres, demo_services
):
    # given aino has a profile and has given demo-service a consent to two of its fields
    citizen, _ = citizen_get_or_create(issuer=settings.OIDC_ISSUER, subject=str(AINO.sub))
    profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": AINO.first_name, "email": AINO.email},
    )
    service = Service.objects.get(slug="demo-service")
    request = consent_request_create(
        service=service,
        field_ids=FIELDS,
        purpose_code="membership-check",
        redirect_uri=REDIRECT_URIS["demo-service"],
    )
    decision = consent_request_decide(
        citizen=citizen, loa="substantial", request_id=request.pk, approve=True
    )
    assert decision.consent is not None
    pairwise_id = decision.consent.subject.pairwise_id

    def read(request_id: str) -> list[str]:
        result = citizen_data_read(
            service=service, pairwise_id=pairwise_id, request_id=request_id, field_ids=None
        )
        assert result is not None
        values = {k: v for record in result.records for k, v in record.values.items()}
        assert values == {"profile.email": AINO.email, "profile.first_name": AINO.first_name}
        return result.granted_fields

    # when 16 readers read her at once, each several times
    request_ids = read_together(read)

    # then every read answered, and each is in her log exactly once, in an intact chain
    assert_one_entry_per_read(citizen, request_ids)


def test_concurrent_reads_over_http_all_answer_and_are_each_logged_once(
    postgres, live_server, api, tokens, demo_services
):
    # given aino (through the API) has given demo-service a consent to two of its fields
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=FIELDS)
    citizen = Citizen.objects.get(subject=str(AINO.sub))
    service_token = tokens.service("demo-service")
    local = threading.local()
    clients: list[httpx.Client] = []

    def read(request_id: str) -> list[str]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=live_server.url, timeout=60)
            clients.append(local.client)
        response = local.client.post(
            "/graphql/",
            json={"query": CITIZEN_DATA, "variables": {"id": granted["citizenId"]}},
            headers={"Authorization": f"Bearer {service_token}", "X-Request-ID": request_id},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert AINO.email in response.text
        return list(body["data"]["citizenData"]["grantedFields"])

    # when demo-service's 16 clients read her at once over HTTP, each several times
    try:
        request_ids = read_together(read)
    finally:
        for client in clients:
            client.close()

    # then every call answered, and each is in her log exactly once, in an intact chain
    assert_one_entry_per_read(citizen, request_ids)
