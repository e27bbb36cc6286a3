"""Query counts of the consent read paths stay flat as consents and log entries pile up."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection

from consent import services
from consent.demo import demo_services_seed
from consent.selectors import citizen_consents
from tests.queries import assert_num_queries
from wallet.services import (
    UpstreamRecord,
    citizen_get_or_create,
    profile_update_from_claims,
    records_upsert,
)

pytestmark = pytest.mark.django_db(databases="__all__")

FIELDS = ["profile.email", "youth.membership.status"]


def _citizen():
    citizen, _ = citizen_get_or_create(issuer=settings.OIDC_ISSUER, subject=str(uuid.uuid4()))
    profile_update_from_claims(citizen=citizen, claims={"email": "q@example.com"})
    records_upsert(
        citizen=citizen,
        source="youth",
        records=[UpstreamRecord(kind="membership", external_id="n1", payload={"status": "ACTIVE"})],
    )
    return citizen


def _ask(service, fields=FIELDS, hint=None):
    """demo-service's request, for its registered purpose and redirect URI."""
    return services.consent_request_create(
        service=service,
        field_ids=list(fields),
        purpose_code="membership-check",
        redirect_uri=service.redirect_uri_list()[0],
        citizen_hint=hint,
    )


def _consent(citizen, service, fields=FIELDS):
    request = _ask(service, fields)
    decision = services.consent_request_decide(
        citizen=citizen, loa="substantial", request_id=request.pk, approve=True
    )
    return decision.consent


def _read(service, consent):
    return services.citizen_data_read(
        service=service,
        pairwise_id=consent.subject.pairwise_id,
        request_id=str(uuid.uuid4()),
        field_ids=None,
    )


def _append_queries() -> int:
    # The head comes with the consents. PostgreSQL: move it and insert the entry in one
    # statement; SQLite (no data-modifying CTEs): savepoint, move, insert, release. (A read that
    # meets another at the head waits in line for it; tests/consent/test_concurrent_reads.py.)
    return 1 if connection.vendor == "postgresql" else 4


# data: 1 consents with their newest state, the citizen, the log head, the profile and the
# records of the kinds asked for; then the log append; key store: 1 data key
def _read_queries() -> dict[str, int]:
    return {"default": 1 + _append_queries(), "keys": 1}


@pytest.mark.parametrize(("consents", "earlier_reads"), [(1, 0), (10, 0), (1, 50), (10, 50)])
def test_consented_read_queries_are_constant(consents, earlier_reads):
    service = demo_services_seed()[0]
    citizen = _citizen()
    granted = [_consent(citizen, service) for _ in range(consents)]
    for _ in range(earlier_reads):
        _read(service, granted[0])

    with assert_num_queries(**_read_queries()):
        read = _read(service, granted[-1])
    assert read.granted_fields == FIELDS


def test_read_without_a_consent_in_force_costs_no_more_and_shares_nothing():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)

    # the same statements (no profile or record is opened); the log append still needs the key
    # to seal its entry
    with assert_num_queries(**_read_queries()):
        read = _read(service, consent)
    assert read.granted_fields == [] and read.records == []


@pytest.mark.parametrize("consents", [1, 12])
def test_citizen_consents_list_queries_are_constant(consents):
    service = demo_services_seed()[0]
    citizen = _citizen()
    for _ in range(consents):
        _consent(citizen, service)

    # 1 consents with service and pairwise id, 1 status records; 1 data key
    with assert_num_queries(default=2, keys=1):
        views = citizen_consents(citizen=citizen)
    assert len(views) == consents and all(v.fields == FIELDS for v in views)
