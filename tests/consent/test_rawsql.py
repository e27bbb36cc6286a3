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
from wallet.models import AccessLogEntry, AccessLogHead, Citizen

pytestmark = pytest.mark.django_db(databases="__all__")


def test_consents_statement_names_no_table_of_the_core_itself():
    # the citizen and the log head come in through the core's fragment, named by the core
    source = inspect.getsource(rawsql)
    for model in (Citizen, AccessLogHead, AccessLogEntry):
        assert model._meta.db_table not in source
        assert core_rawsql.table(model) not in source
    fragment = core_rawsql.citizen_with_log_head(citizen_id='c."citizen_id"')
    assert fragment.joins in rawsql.GRANTS_FOR_READ
    assert fragment.columns in rawsql.GRANTS_FOR_READ


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
