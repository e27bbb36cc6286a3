"""The consent app's members of the data export (consent/export.py): each consent with its
state, status chain and signed receipt; every request made to the citizen, in its state."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.utils import timezone

from consent.models import Consent, ConsentRequest
from tests.exports import citizen_with_everything, validate
from wallet import signing
from wallet.export import citizen_export

pytestmark = pytest.mark.django_db(databases="__all__")

ISO_SCHEMA = "docs/schemas/iso27560-consent-record-v1.schema.json"


@pytest.fixture
def citizen():  # type: ignore[no-untyped-def]
    return citizen_with_everything()


def test_consents_carry_their_state_chain_and_receipt(citizen):
    document = citizen_export(citizen=citizen)
    by_state = {c["state"]: c for c in document["consents"]}
    assert set(by_state) == {"given", "withdrawn"}
    withdrawn = by_state["withdrawn"]
    first, second = withdrawn["statusChain"]
    assert (first["seq"], first["state"], first["previousDigest"]) == (1, "given", None)
    assert (second["seq"], second["state"], second["actor"]) == (2, "withdrawn", "citizen")
    assert second["previousDigest"] == first["digest"]
    assert withdrawn["fields"] == ["profile.email", "youth.membership.status"]
    assert withdrawn["purpose"]["code"] == "membership-check"
    assert withdrawn["purpose"]["description"]["sv"] == "Kontroll av medlemskap för bokningar"
    assert withdrawn["assurance"] == "high"
    for consent in document["consents"]:
        stored = Consent.objects.get(pk=consent["id"])
        assert consent["pairwiseId"] == str(stored.subject.pairwise_id)
        receipt = signing.jws_verify(consent["receipt"])
        assert receipt["consentReceiptID"] == consent["receiptId"] == str(stored.receipt_id)
        assert receipt["piiPrincipalId"] == consent["pairwiseId"]
        assert receipt["services"][0]["purposes"][0]["piiCategory"] == consent["fields"]


def test_each_consent_carries_its_iso_27560_record(citizen):
    """The record `consent.iso27560` builds, valid against its own committed schema."""
    schema = json.loads((Path(settings.BASE_DIR) / ISO_SCHEMA).read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    document = citizen_export(citizen=citizen)
    for consent in document["consents"]:
        record = consent["consentRecord"]
        validator.validate(record)
        assert consent["pairwiseId"] in json.dumps(record)
        assert str(citizen.pk) not in json.dumps(record)  # the pairwise id only, as receipts


def test_an_expired_consent_is_exported_as_expired(citizen):
    given = Consent.objects.get(citizen=citizen, service__slug="demo-service-2")
    Consent.objects.filter(pk=given.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    document = citizen_export(citizen=citizen)
    validate(document)
    [expired] = [c for c in document["consents"] if c["id"] == str(given.pk)]
    assert expired["state"] == "expired" and expired["expiresAt"] is not None


def test_every_request_made_to_the_citizen_is_exported_in_its_state(citizen):
    other = citizen_with_everything()  # their requests are not this citizen's
    document = citizen_export(citizen=citizen)
    requests = document["consentRequests"]
    theirs = ConsentRequest.objects.filter(citizen=other).values_list("pk", flat=True)
    assert not {r["id"] for r in requests} & set(theirs)
    by_state: dict[str, list[dict]] = {}
    for request in requests:
        by_state.setdefault(request["state"], []).append(request)
    assert sorted((state, len(items)) for state, items in by_state.items()) == [
        ("given", 2),
        ("refused", 1),
        ("requested", 1),
    ]
    [refused] = by_state["refused"]
    assert refused["decidedAt"] is not None and refused["consentId"] is None
    consent_ids = {c["id"] for c in document["consents"]}
    assert {r["consentId"] for r in by_state["given"]} == consent_ids
    [pending] = by_state["requested"]  # hinted to them, not opened yet: the ask is still there
    assert pending["fields"] == ["berths.boat.name"] and pending["decidedAt"] is None
    assert pending["service"]["slug"] == "demo-service-2"

    ConsentRequest.objects.filter(pk=pending["id"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    later = citizen_export(citizen=citizen)
    validate(later)
    [lapsed] = [r for r in later["consentRequests"] if r["id"] == pending["id"]]
    assert lapsed["state"] == "expired"
