"""The access log: append-only, hash-chained per citizen; any edit or deletion shows."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import keys, vault
from wallet.access_log import (
    AppendTimeout,
    LogHead,
    access_log_append,
    access_log_page,
    access_log_verify,
)
from wallet.erasure import citizen_erase
from wallet.models import AccessLogEntry, AccessLogHead

pytestmark = pytest.mark.django_db(databases="__all__")

SERVICE_ID = uuid.uuid4()


def _append(citizen, request_id, head=None):
    return access_log_append(
        citizen=citizen,
        service_id=SERVICE_ID,
        consent_id=None,
        head=head,
        details={
            "service": {"slug": "demo-service", "name": "Demo"},
            "fields": ["profile.email"],
            "withheld": [],
            "purposes": ["membership-check"],
            "request_id": request_id,
            "records": 1,
        },
    )


def _reads(citizen, count):
    vault.citizen_key_at(
        citizen_id=citizen.pk, generation=1
    )  # the citizen has a key, as after any sync or consent
    for n in range(count):
        _append(citizen, f"read-{n}")


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


def test_entries_name_every_consent_and_older_entries_with_one_still_read():
    # given an entry written before entries listed their consents (one id, in the column only),
    # one with no consent, and one naming two consents in its sealed details
    citizen = CitizenFactory()
    vault.citizen_key_at(citizen_id=citizen.pk, generation=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    details = {"service": {"slug": "s", "name": "S"}, "fields": [], "withheld": []}
    details |= {"purposes": [], "request_id": "r", "records": 0}
    access_log_append(citizen=citizen, service_id=SERVICE_ID, consent_id=first, details=details)
    access_log_append(citizen=citizen, service_id=SERVICE_ID, consent_id=None, details=details)
    access_log_append(
        citizen=citizen,
        service_id=SERVICE_ID,
        consent_id=first,
        details={**details, "consent_ids": [str(first), str(second)]},
    )

    # then each reads with its consents, and the chain verifies
    items = access_log_page(citizen=citizen, first=3).items
    assert [(i.consent_id, i.consent_ids) for i in items] == [
        (first, [first, second]),
        (None, []),
        (first, [first]),
    ]
    assert list(access_log_verify()) == []
    ok, _ = _verify_command(citizen)
    assert ok


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


def test_an_append_behind_a_stale_head_waits_its_turn_and_links_after_the_newest_entry():
    # given a log of two entries, and an append holding the head as it was before both
    citizen = CitizenFactory()
    _reads(citizen, 2)
    stale = LogHead(seq=0, mac="", generation=citizen.data_key_generation)

    # when it appends: its compare-and-swap loses, and it appends again holding the head
    seq = _append(citizen, "late", head=stale)

    # then its entry is the third, linked after the second, and the chain verifies
    assert seq == 3
    assert list(access_log_verify()) == []
    page = access_log_page(citizen=citizen, first=3)
    assert [i.details["request_id"] for i in page.items] == ["late", "read-1", "read-0"]


def _lock_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return cursor.fetchone()[0]


def test_an_append_that_waits_inside_a_transaction_leaves_its_lock_timeout_as_it_was(postgres):
    # given the caller's transaction (this test's) and a log the append's head is stale for
    citizen = CitizenFactory()
    _reads(citizen, 1)
    before = _lock_timeout()

    # when the append waits for the head, with its own lock timeout
    assert _append(citizen, "late", head=LogHead(seq=0, mac="", generation=1)) == 2

    # then the caller's transaction goes on with its own
    assert _lock_timeout() == before


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_append_waiting_longer_than_the_lock_timeout_fails_with_a_clear_error(
    postgres, settings
):
    # given another transaction holds the citizen's log head and does not let go
    settings.WALLET_ACCESS_LOG_LOCK_TIMEOUT = 0.2
    citizen = CitizenFactory()
    _reads(citizen, 1)
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                AccessLogHead.objects.select_for_update().get(citizen=citizen)
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    try:
        assert locked.wait(timeout=30)

        # when an append waits for it: then it gives up after the timeout, saying why
        with pytest.raises(AppendTimeout, match=r"stayed locked for more than 0\.2 s"):
            _append(citizen, "waited")
    finally:
        release.set()
        thread.join(timeout=30)

    # and nothing of it was written; once the head is free, appends link on
    assert AccessLogHead.objects.get(citizen=citizen).seq == 1
    assert _append(citizen, "after") == 2
    assert list(access_log_verify()) == []


APPENDERS = 8
APPENDS_BETWEEN_ROTATIONS = 20


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_appends_racing_data_key_rotations_all_land_and_the_chain_verifies(postgres):
    # given a citizen with a key, and appenders that keep appending to their log, each on its
    # own connections (a rotation locks the citizen, then the head; appends take the same order)
    citizen = CitizenFactory()
    vault.citizen_key_at(citizen_id=citizen.pk, generation=1)
    started = threading.Barrier(APPENDERS + 1)
    appended = threading.Semaphore(0)
    stop = threading.Event()
    seqs: list[int] = []
    failures: list[BaseException] = []

    def appender(number: int) -> None:
        try:
            started.wait(timeout=30)
            n = 0
            while not stop.is_set():
                seqs.append(_append(citizen, f"appender-{number}-{n}"))
                appended.release()
                n += 1
        except BaseException as error:  # reported by the main thread
            failures.append(error)
            appended.release()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=appender, args=(n,), daemon=True) for n in range(APPENDERS)]
    for thread in threads:
        thread.start()

    # when the citizen's data key is rotated three times while they append
    try:
        started.wait(timeout=30)
        for _ in range(3):
            for _ in range(APPENDS_BETWEEN_ROTATIONS):
                assert appended.acquire(timeout=60), "the appenders stalled"
            assert not failures, failures
            keys.data_key_rotate(citizen=citizen)
        for _ in range(APPENDS_BETWEEN_ROTATIONS):
            assert appended.acquire(timeout=60), "the appenders stalled after the rotations"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "an appender did not finish"

    # then every append landed in its own place, and the chain verifies under the newest key
    assert failures == []
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert AccessLogHead.objects.get(citizen=citizen).seq == len(seqs)
    citizen.refresh_from_db()
    assert citizen.data_key_generation == 4
    assert list(access_log_verify()) == []
