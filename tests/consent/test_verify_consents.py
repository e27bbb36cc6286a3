"""`manage.py verify_consents`: every consent's status chain is walked from its first record; a
missing, altered or reordered record shows, and so does a consent with no record at all."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from consent import services
from consent.demo import demo_services_seed
from consent.models import ConsentStatus
from tests.consent.test_queries import _citizen, _consent
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def _verify(citizen=None):
    """(exit code, what it printed)."""
    out, err = StringIO(), StringIO()
    args = ["--citizen", citizen.subject, "--issuer", citizen.issuer] if citizen else []
    try:
        call_command("verify_consents", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, err.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def given_and_withdrawn():
    """One citizen with a consent in force and a withdrawn one (two status records)."""
    service = demo_services_seed()[0]
    citizen = _citizen()
    given = _consent(citizen, service)
    withdrawn = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=withdrawn.pk)
    return citizen, given, withdrawn


def test_intact_histories_pass(given_and_withdrawn):
    citizen, _, _ = given_and_withdrawn
    _consent(CitizenFactory(), demo_services_seed()[0])  # another citizen's

    assert _verify() == (0, "Every consent's history is intact.\n")
    assert _verify(citizen) == (0, "Every consent's history is intact.\n")


def test_edited_status_record_is_reported(given_and_withdrawn):
    citizen, given, withdrawn = given_and_withdrawn
    # the withdrawal turned back into a grant in the database
    ConsentStatus.objects.filter(consent=withdrawn, seq=2).update(state="given")

    code, output = _verify()
    assert code == 1
    assert f"citizen {citizen.pk}, consent {withdrawn.pk}: status 2 was altered" in output
    assert str(given.pk) not in output
    assert "1 consent history chain(s) broken" in output


def test_deleted_status_record_is_reported(given_and_withdrawn):
    _, _, withdrawn = given_and_withdrawn
    # the grant is deleted, the withdrawal unhooked from it
    ConsentStatus.objects.filter(consent=withdrawn, seq=2).update(previous=None)
    ConsentStatus.objects.filter(consent=withdrawn, seq=1).delete()

    code, output = _verify()
    assert code == 1
    assert f"consent {withdrawn.pk}: status 1 is missing or out of order" in output


def test_reordered_status_records_are_reported(given_and_withdrawn):
    _, _, withdrawn = given_and_withdrawn
    records = ConsentStatus.objects.filter(consent=withdrawn)
    records.filter(seq=2).update(seq=3)
    records.filter(seq=1).update(seq=2)
    records.filter(seq=3).update(seq=1)

    code, output = _verify()
    assert code == 1
    assert f"consent {withdrawn.pk}: status 1 is missing or out of order" in output


def test_consent_with_no_status_records_is_reported(given_and_withdrawn):
    citizen, given, _ = given_and_withdrawn
    ConsentStatus.objects.filter(consent=given).delete()

    code, output = _verify(citizen)
    assert code == 1
    assert f"consent {given.pk}: the consent has no status records" in output
    # another citizen's intact consents pass on their own
    other = CitizenFactory()
    _consent(other, demo_services_seed()[0])
    assert _verify(other)[0] == 0


def test_report_names_ids_only(given_and_withdrawn):
    citizen, given, withdrawn = given_and_withdrawn
    ConsentStatus.objects.filter(consent=given).delete()
    ConsentStatus.objects.filter(consent=withdrawn, seq=2).update(state="given")

    code, output = _verify(citizen)
    assert code == 1
    assert output.count("broken link:") == 2
    assert citizen.subject not in output and "q@example.com" not in output
    assert "profile.email" not in output and "membership-check" not in output
