"""The access log: append-only, hash-chained per citizen; any edit or deletion shows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import keys
from wallet.access_log import access_log_append, access_log_page, access_log_verify
from wallet.models import AccessLogEntry, AccessLogHead
from wallet.services import citizen_erase

pytestmark = pytest.mark.django_db(databases="__all__")

SERVICE_ID = uuid.uuid4()


def _reads(citizen, count):
    keys.citizen_cipher(citizen=citizen)  # the citizen has a key, as after any sync or consent
    for n in range(count):
        access_log_append(
            citizen=citizen,
            service_id=SERVICE_ID,
            consent_id=None,
            details={
                "service": {"slug": "demo-service", "name": "Demo"},
                "fields": ["profile.email"],
                "withheld": [],
                "purposes": ["membership-check"],
                "request_id": f"read-{n}",
                "records": 1,
            },
        )


def _verify_command(citizen=None):
    out, err = StringIO(), StringIO()
    args = ["--citizen", citizen.subject, "--issuer", citizen.issuer] if citizen else []
    try:
        call_command("verify_access_log", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, err.getvalue() + str(error)
    return True, out.getvalue()


def test_intact_chains_verify():
    first, second = CitizenFactory(), CitizenFactory()
    _reads(first, 5)
    _reads(second, 3)

    assert list(access_log_verify()) == []
    ok, output = _verify_command()
    assert ok and "intact" in output
    assert AccessLogHead.objects.get(citizen=first).seq == 5


def test_editing_an_entry_is_detected():
    citizen = CitizenFactory()
    _reads(citizen, 5)
    entry = AccessLogEntry.objects.get(citizen=citizen, seq=3)
    AccessLogEntry.objects.filter(pk=entry.pk).update(
        created_at=entry.created_at - timedelta(hours=1)
    )

    [broken] = access_log_verify()
    assert (broken.citizen_id, broken.seq) == (citizen.pk, 3)
    assert "altered" in broken.reason
    ok, output = _verify_command(citizen)
    assert not ok and "entry 3" in output


def test_swapping_sealed_details_between_entries_is_detected():
    citizen = CitizenFactory()
    _reads(citizen, 3)
    one, two = AccessLogEntry.objects.filter(citizen=citizen, seq__in=[1, 2]).order_by("seq")
    AccessLogEntry.objects.filter(pk=one.pk).update(details=two.details)

    [broken] = access_log_verify()
    assert broken.seq == 1 and "sealed details" in broken.reason


def test_deleting_an_entry_in_the_middle_is_detected():
    citizen = CitizenFactory()
    _reads(citizen, 5)
    AccessLogEntry.objects.filter(citizen=citizen, seq=2).delete()

    [broken] = access_log_verify()
    assert broken.seq == 2 and "missing" in broken.reason


def test_deleting_the_newest_entry_is_detected_by_the_head():
    citizen = CitizenFactory()
    _reads(citizen, 4)
    AccessLogEntry.objects.filter(citizen=citizen, seq=4).delete()

    [broken] = access_log_verify()
    assert broken.seq is None and "ends at entry 3" in broken.reason


def test_rewriting_the_chain_without_the_key_is_detected():
    # someone with the database but not the MAC key renumbers after deleting entry 2
    citizen = CitizenFactory()
    _reads(citizen, 3)
    AccessLogEntry.objects.filter(citizen=citizen, seq=2).delete()
    three = AccessLogEntry.objects.get(citizen=citizen, seq=3)
    first = AccessLogEntry.objects.get(citizen=citizen, seq=1)
    AccessLogEntry.objects.filter(pk=three.pk).update(seq=2, previous_mac=first.mac)
    AccessLogHead.objects.filter(citizen=citizen).update(seq=2)

    [broken] = access_log_verify()
    assert broken.seq == 2


def test_page_is_newest_first_with_a_cursor_and_constant_queries():
    citizen = CitizenFactory()
    _reads(citizen, 30)

    # 1 page of entries (data) + 1 key (key store), whatever the page size
    with assert_num_queries(default=1, keys=1):
        page = access_log_page(citizen=citizen, first=25)
    assert [i.seq for i in page.items] == list(range(30, 5, -1)) and page.has_next_page
    assert page.items[0].details["request_id"] == "read-29"

    with assert_num_queries(default=1, keys=1):
        rest = access_log_page(citizen=citizen, first=25, before_seq=page.items[-1].seq)
    assert [i.seq for i in rest.items] == [5, 4, 3, 2, 1] and not rest.has_next_page


def test_data_key_rotation_reseals_the_log_and_the_chain_still_verifies():
    citizen = CitizenFactory()
    _reads(citizen, 3)
    before = dict(AccessLogEntry.objects.values_list("seq", "details"))

    keys.data_key_rotate(citizen=citizen)

    after = dict(AccessLogEntry.objects.values_list("seq", "details"))
    assert all(bytes(after[seq]) != bytes(before[seq]) for seq in before)
    assert list(access_log_verify()) == []
    citizen.refresh_from_db()
    assert access_log_page(citizen=citizen, first=1).items[0].details["request_id"] == "read-2"


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_erasure_removes_the_citizens_log():
    citizen, other = CitizenFactory(), CitizenFactory()
    _reads(citizen, 2)
    _reads(other, 2)

    citizen_erase(citizen=citizen)

    assert not AccessLogEntry.objects.filter(citizen_id=citizen.pk).exists()
    assert not AccessLogHead.objects.filter(citizen_id=citizen.pk).exists()
    assert list(access_log_verify()) == []  # the other citizen's chain is untouched
