"""Consent services below the API: history chains, expiry, key rotation and erasure."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.demo import demo_services_seed
from consent.models import CONSENT_CONTENTS, Consent, ConsentRequest, ConsentStatus, RequestState
from consent.selectors import citizen_consents, consent_receipt
from tests.consent.test_queries import FIELDS, _ask, _citizen, _consent, _read
from wallet import crypto, keys, vault
from wallet.access_log import access_log_page, access_log_verify
from wallet.erasure import citizen_erase
from wallet.models import AccessLogEntry

pytestmark = pytest.mark.django_db(databases="__all__")


def test_status_chain_verifies_and_an_edit_shows():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)
    assert services.consent_history_verify(consent=consent) is None

    # someone turns the withdrawal back into a grant in the database
    ConsentStatus.objects.filter(consent=consent, seq=2).update(state="given")
    assert services.consent_history_verify(consent=consent) == "status 2 was altered"


def test_consent_without_status_records_is_not_in_force():
    # given a consent, and a second one that keeps its history
    service = demo_services_seed()[0]
    citizen = _citizen()
    lost = _consent(citizen, service)
    kept = _consent(citizen, service, fields=["profile.email"])
    # when the first one's status records are deleted in the database
    ConsentStatus.objects.filter(consent=lost).delete()

    # then a read gets only what the other consent covers, and names only that one
    read = _read(service, lost)
    assert read.granted_fields == ["profile.email"]
    assert "youth.membership.status" in read.withheld_fields
    assert AccessLogEntry.objects.get(citizen_id=citizen.pk).consent_id == kept.pk
    # the citizen's view does not show it as given, with no history to show
    views = {view.id: view for view in citizen_consents(citizen=citizen)}
    assert views[lost.pk].state == "unknown" and views[lost.pk].history == []
    assert views[kept.pk].state == "given"
    # it cannot be withdrawn (nothing is in force), and the expiry job leaves it alone
    with pytest.raises(services.ConsentError) as error:
        services.consent_withdraw(citizen=citizen, consent_id=lost.pk)
    assert error.value.code == "CONFLICT"
    Consent.objects.filter(pk=lost.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.consents_expire() == 0
    assert not ConsentStatus.objects.filter(consent=lost).exists()


def test_consent_without_status_records_alone_shares_nothing():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    ConsentStatus.objects.filter(consent=consent).delete()

    read = _read(service, consent)
    assert read.granted_fields == [] and read.records == []
    assert read.withheld_fields == service.allowed_fields


def test_read_names_every_consent_it_rests_on_and_no_other():
    # given four consents to one service: two cover what is read, one covers something else,
    # and one covering a read field was withdrawn
    service = demo_services_seed()[0]
    citizen = _citizen()
    email = _consent(citizen, service, fields=["profile.email"])
    withdrawn = _consent(citizen, service, fields=["youth.membership.status"])
    services.consent_withdraw(citizen=citizen, consent_id=withdrawn.pk)
    status = _consent(citizen, service, fields=["youth.membership.status", "profile.email"])
    _consent(citizen, service, fields=["profile.first_name"])

    # when the service reads the email and the status
    read = services.citizen_data_read(
        service=service,
        pairwise_id=email.subject.pairwise_id,
        request_id=str(uuid.uuid4()),
        field_ids=FIELDS,
    )

    # then the entry names the two consents in force that cover them, oldest first
    assert read.granted_fields == FIELDS
    [item] = access_log_page(citizen=citizen, first=1).items
    assert item.consent_ids == [email.pk, status.pk] and item.consent_id == email.pk
    assert list(access_log_verify()) == []


def test_expiry_is_enforced_at_read_time_then_recorded():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    assert _read(service, consent).granted_fields

    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _read(service, consent).granted_fields == []  # nothing recorded yet, still refused
    [view] = citizen_consents(citizen=citizen)
    assert view.state == "expired" and [h.state for h in view.history] == ["given"]

    assert services.consents_expire() == 1
    assert services.consents_expire() == 0  # recorded once
    [view] = citizen_consents(citizen=citizen)
    assert [(h.state, h.actor) for h in view.history] == [
        ("given", "citizen"),
        ("expired", "system"),
    ]
    with pytest.raises(services.ConsentError) as error:
        services.consent_withdraw(citizen=citizen, consent_id=consent.pk)
    assert error.value.code == "CONFLICT"


def test_undecided_requests_expire_and_forget_what_they_asked():
    service = demo_services_seed()[0]
    request = _ask(service, ["profile.email"])
    ConsentRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())

    with pytest.raises(services.ConsentError) as error:
        services.consent_request_decide(
            citizen=_citizen(), loa="high", request_id=request.pk, approve=True
        )
    assert error.value.code == "CONFLICT"
    assert services.consent_requests_expire() == 1
    request.refresh_from_db()
    assert (request.state, request.fields) == (RequestState.EXPIRED, [])


def test_decided_request_keeps_no_copy_of_the_fields():
    service = demo_services_seed()[0]
    consent = _consent(_citizen(), service)
    assert ConsentRequest.objects.get(pk=consent.request_id).fields == []


def test_suspended_service_reads_nothing_and_cannot_ask():
    service = demo_services_seed()[0]
    consent = _consent(_citizen(), service)
    service.is_active = False
    service.save()

    assert _read(service, consent) is None  # as if it had never been given an id
    with pytest.raises(services.ConsentError):
        _ask(service, ["profile.email"])


def test_narrowed_registration_narrows_existing_consents():
    service = demo_services_seed()[0]
    consent = _consent(_citizen(), service)
    service.allowed_fields = ["profile.email"]
    service.save()

    assert _read(service, consent).granted_fields == ["profile.email"]


def test_data_key_rotation_reseals_consents_and_receipts():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    receipt_before = consent_receipt(citizen=citizen, consent_id=consent.pk)
    old_vault = vault.citizen_reading_required(citizen)

    keys.data_key_rotate(citizen=citizen)
    citizen.refresh_from_db()

    assert consent_receipt(citizen=citizen, consent_id=consent.pk) == receipt_before
    assert _read(service, consent).granted_fields
    stored = Consent.objects.get(pk=consent.pk)
    with pytest.raises(crypto.DecryptionError):
        old_vault.open(CONSENT_CONTENTS, row_id=stored.pk, ciphertext=stored.contents)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_erasure_ends_every_consent_and_the_service_is_told_it_was_withdrawn():
    service = demo_services_seed()[0]
    citizen = _citizen()
    consent = _consent(citizen, service)
    pairwise = consent.subject.pairwise_id

    citizen_erase(citizen=citizen)

    assert not Consent.objects.filter(pk=consent.pk).exists()
    with pytest.raises(services.ConsentError) as error:
        services.citizen_data_read(
            service=service, pairwise_id=pairwise, request_id=str(uuid.uuid4()), field_ids=None
        )
    assert error.value.code == "CONSENT_WITHDRAWN"
    # an id this service was never given is still just unknown
    assert (
        services.citizen_data_read(
            service=service, pairwise_id=uuid.uuid4(), request_id=str(uuid.uuid4()), field_ids=None
        )
        is None
    )


def test_a_service_cannot_flood_a_citizens_pending_list(settings):
    settings.CONSENT = {**settings.CONSENT, "MAX_PENDING_PER_CITIZEN": 2}
    service = demo_services_seed()[0]

    def ask(hint):
        return _ask(service, ["profile.email"], hint=hint)

    ask("sub-1")
    ask("sub-1")
    with pytest.raises(services.ConsentError) as error:
        ask("sub-1")
    assert error.value.code == "RATE_LIMITED"
    ask("sub-2")  # another citizen's list is not full
