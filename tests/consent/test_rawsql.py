"""Consent's hot-path SQL (consent/rawsql.py): typed rows, and the core's tables only through
the core's fragment."""

from __future__ import annotations

import dataclasses
import inspect
import uuid

import pytest

from consent import rawsql
from consent.demo import demo_services_seed
from consent.selectors import consents_for_read
from tests.consent.test_queries import _citizen, _consent, _read
from wallet import rawsql as core_rawsql
from wallet.models import AccessLogEntry, AccessLogHead, Citizen, DataRecord, Profile

pytestmark = pytest.mark.django_db(databases="__all__")


def test_consents_statement_names_no_table_of_the_core_itself():
    # the citizen, the log head, the profile and the records come in through the core's
    # statement around the consents, named by the core
    source = inspect.getsource(rawsql)
    for model in (Citizen, AccessLogHead, AccessLogEntry, Profile, DataRecord):
        assert model._meta.db_table not in source
        assert core_rawsql.table(model) not in source
    statement = rawsql.grants_for_read_statement(2, True)
    assert (
        statement.sql
        == core_rawsql.rows_with_wallet(
            target=rawsql.CONSENTS_OF_PAIRWISE_ID, width=4, kinds=2, profile=True
        ).sql
    )
    assert statement is rawsql.grants_for_read_statement(2, True)  # built once a shape


def test_read_target_holds_the_asked_kinds_sealed_and_nothing_of_other_kinds():
    # given a citizen with a profile and a youth card, who consented to two fields
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)

    # when the read asks for the youth card's kind only, then for the profile only
    youth = consents_for_read(
        service_id=service.pk,
        pairwise_id=consent.subject.pairwise_id,
        field_ids=["youth.membership.status"],
    )
    profile = consents_for_read(
        service_id=service.pk,
        pairwise_id=consent.subject.pairwise_id,
        field_ids=["profile.email"],
    )

    # then each holds that part, still sealed, and not the other
    assert youth is not None and profile is not None
    assert youth.wallet.profile is None
    [record] = youth.wallet.records
    assert (record.source, record.kind) == ("youth", "membership")
    assert isinstance(record.payload, bytes | memoryview) and b"ACTIVE" not in bytes(record.payload)
    assert profile.wallet.records == [] and profile.wallet.profile is not None


def test_read_target_holds_typed_rows_not_model_instances():
    service = demo_services_seed()[0]
    citizen = _citizen()
    first, second = _consent(citizen, service), _consent(citizen, service)
    _read(service, first)  # moves the log head to 1

    target = consents_for_read(service_id=service.pk, pairwise_id=first.subject.pairwise_id)

    assert target is not None
    assert target.citizen == core_rawsql.CitizenRow(
        id=citizen.pk, data_key_generation=citizen.data_key_generation, is_active=True
    )
    assert [c.pk for c in target.consents] == [first.pk, second.pk]  # oldest first
    assert all(isinstance(c, rawsql.ConsentRow) for c in target.consents)
    assert target.consents[0].current_state == "given"
    assert target.log_head is not None and target.log_head.seq == 1
    assert not hasattr(target.consents[0], "save") and not hasattr(target.citizen, "save")
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.consents[0].current_state = "withdrawn"  # type: ignore[misc]


def test_a_citizen_without_a_log_head_is_read_and_their_head_made_by_the_append():
    # given a citizen whose log head is missing (made before the log existed)
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    AccessLogHead.objects.filter(citizen=citizen).delete()

    # when the service reads
    target = consents_for_read(service_id=service.pk, pairwise_id=consent.subject.pairwise_id)
    read = _read(service, consent)

    # then the head was read as absent, the read shared the fields, and the append made the head
    assert target is not None and target.log_head is None
    assert read.granted_fields and AccessLogHead.objects.get(citizen=citizen).seq == 1


def test_an_unknown_pairwise_id_reads_nothing():
    service = demo_services_seed()[0]
    assert consents_for_read(service_id=service.pk, pairwise_id=uuid.uuid4()) is None
