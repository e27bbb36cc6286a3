"""Withdrawal racing concurrent reads on PostgreSQL: no read that starts after the withdrawal
commits returns data, and every read, before or after, is in the citizen's access log.

Reader threads each have their own database connections, and the test runs with real commits
(`transaction=True`), so the threads see exactly what PostgreSQL has committed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from django.conf import settings
from django.db import connections

from consent.models import Consent, Service
from consent.services import (
    citizen_data_read,
    consent_history_verify,
    consent_request_create,
    consent_request_decide,
    consent_withdraw,
)
from sandbox.demo import AINO
from tests.consent.conftest import CITIZEN_DATA, REDIRECT_URIS, WITHDRAW, grant
from wallet.access_log import access_log_verify
from wallet.models import AccessLogEntry, AccessLogHead, Citizen
from wallet.services import citizen_get_or_create, profile_update_from_claims

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

READERS = 4
MAX_READS_PER_READER = 500
READS_BEFORE_WITHDRAWAL = 5  # per reader, before the main thread withdraws
KEEP_READING_AFTER = 2.0  # seconds after the withdrawal commits
FIELDS = ["profile.first_name", "profile.email"]  # in demo-service's registration order


@dataclass
class Race:
    """Reads recorded by the reader threads, and when the withdrawal committed."""

    reads: list[tuple[float, list[str]]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    committed_at: float | None = None
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    warmed_up: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def done_reading(self, count: int) -> bool:
        if self.stopped or count >= MAX_READS_PER_READER:
            return True
        committed_at = self.committed_at
        return committed_at is not None and time.monotonic() > committed_at + KEEP_READING_AFTER

    def run(self, read: Callable[[int], list[str]], withdraw: Callable[[], None]) -> None:
        """`read(n)` in READERS threads until KEEP_READING_AFTER past the withdrawal, and
        `withdraw()` here once every reader has read a few times."""

        def reader() -> None:
            try:
                count = 0
                while not self.done_reading(count):
                    started_at = time.monotonic()
                    granted = read(count)
                    with self.lock:
                        self.reads.append((started_at, granted))
                    count += 1
                    if count == READS_BEFORE_WITHDRAWAL:
                        self.warmed_up.release()
            except BaseException as error:  # reported by the main thread
                self.failures.append(error)
                self.warmed_up.release()
            finally:
                connections.close_all()

        threads = [threading.Thread(target=reader, daemon=True) for _ in range(READERS)]
        for thread in threads:
            thread.start()
        try:
            for _ in threads:
                assert self.warmed_up.acquire(timeout=30), "readers did not start reading"
            assert not self.failures, self.failures
            withdraw()
            self.committed_at = time.monotonic()  # withdraw() has returned: it has committed
        finally:
            self.stopped = self.committed_at is None  # on a failure here, stop the readers
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a reader did not finish"
        assert not self.failures, self.failures

    def assert_nothing_after_commit(self) -> None:
        assert self.committed_at is not None
        before = [granted for started, granted in self.reads if started < self.committed_at]
        after = [granted for started, granted in self.reads if started > self.committed_at]
        leaked = [granted for granted in after if granted]
        assert leaked == [], f"{len(leaked)} of {len(after)} reads after the commit got data"
        # the race was a race: data before, and plenty of reads after
        assert sum(1 for granted in before if granted == FIELDS) >= READERS
        assert len(after) >= READERS * 5, len(after)


def assert_log_has_every_read(citizen: Citizen, race: Race) -> None:
    assert list(access_log_verify()) == []
    entries = AccessLogEntry.objects.filter(citizen_id=citizen.pk)
    assert entries.count() == len(race.reads)
    assert AccessLogHead.objects.get(citizen_id=citizen.pk).seq == len(race.reads)
    # an entry names a consent exactly when the read was served under one
    assert entries.filter(consent_id__isnull=False).count() == sum(
        1 for _, granted in race.reads if granted
    )


def test_no_read_after_the_withdrawal_commits_gets_data(postgres, demo_services):
    # given aino has a profile and has given demo-service a consent to two of its fields
    citizen, _ = citizen_get_or_create(issuer=settings.OIDC_ISSUER, subject=str(AINO.sub))
    profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": AINO.first_name, "family_name": AINO.last_name, "email": AINO.email},
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
    consent = decision.consent
    pairwise_id = consent.subject.pairwise_id

    def read(n: int) -> list[str]:
        result = citizen_data_read(
            service=service, pairwise_id=pairwise_id, request_id=f"race-{n}", field_ids=None
        )
        assert result is not None
        if result.granted_fields:
            values = {k: v for record in result.records for k, v in record.values.items()}
            assert values == {"profile.email": AINO.email, "profile.first_name": AINO.first_name}
        else:
            assert result.records == []
        return result.granted_fields

    # when readers keep reading while aino withdraws
    race = Race()
    race.run(read, lambda: consent_withdraw(citizen=citizen, consent_id=consent.pk))

    # then no read that started after the commit got anything, and the log has every read
    race.assert_nothing_after_commit()
    assert_log_has_every_read(citizen, race)
    assert consent_history_verify(consent=Consent.objects.get(pk=consent.pk)) is None


def test_no_read_over_http_after_the_withdrawal_returns_gets_data(
    postgres, live_server, api, tokens, demo_services
):
    # given aino (through the API) has given demo-service a consent to two of its fields
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=FIELDS)
    citizen = Citizen.objects.get(subject=str(AINO.sub))
    service_token = tokens.service("demo-service")
    local = threading.local()
    clients: list[httpx.Client] = []

    def read(n: int) -> list[str]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=live_server.url, timeout=30)
            clients.append(local.client)
        response = local.client.post(
            "/graphql/",
            json={"query": CITIZEN_DATA, "variables": {"id": granted["citizenId"]}},
            headers={
                "Authorization": f"Bearer {service_token}",
                "X-Request-ID": f"race-http-{uuid.uuid4()}",
            },
        )
        assert response.status_code == 200, response.text
        read = response.json()["data"]["citizenData"]
        if read["grantedFields"]:
            assert AINO.email in response.text
        else:
            assert AINO.email not in response.text and read["records"] == []
        return list(read["grantedFields"])

    def withdraw() -> None:
        # the citizen's withdrawal, through the API: its response comes after the commit
        withdrawn = api(WITHDRAW, tokens.citizen("aino"), id=granted["consentId"])
        assert withdrawn["data"]["withdrawConsent"]["errors"] == []

    # when readers keep reading over HTTP while aino withdraws over HTTP
    race = Race()
    try:
        race.run(read, withdraw)
    finally:
        for client in clients:
            client.close()

    # then no read that started after her withdrawal returned got anything
    race.assert_nothing_after_commit()
    assert_log_has_every_read(citizen, race)
