"""Consents as ISO/IEC TS 27560 consent records in DPV (consent/iso27560.py): the shape the
committed JSON Schema describes, the history in order, the citizen named only by their pairwise
id, only declared vocabulary; reachable as a download and over GraphQL by the owner only."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from consent import conf, services
from consent.demo import demo_services_seed
from consent.iso27560 import (
    CONTEXT,
    NAMESPACES,
    PERSONAL_DATA_CONCEPTS,
    PURPOSE_CONCEPTS,
    STATUS_CONCEPTS,
    TERMS,
    consent_record,
    consent_record_build,
    consent_record_of_view,
)
from consent.models import (
    CONSENT_STATE_UNKNOWN,
    Consent,
    ConsentState,
    ConsentStatus,
    PurposeCategory,
    RequestState,
)
from consent.selectors import citizen_consents, service_cache_clear
from tests.consent.test_queries import FIELDS, _citizen, _read
from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import catalogue
from wallet.services import profile_update_from_claims

pytestmark = pytest.mark.django_db(databases="__all__")

SCHEMA_PATH = (
    Path(settings.BASE_DIR) / "docs" / "schemas" / "iso27560-consent-record-v1.schema.json"
)
SCHEMA = json.loads(SCHEMA_PATH.read_text())
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def service():
    service_cache_clear()
    return demo_services_seed()[0]


def _consent(citizen, service, fields=FIELDS, expires_at=None):
    request = services.consent_request_create(
        service=service,
        field_ids=list(fields),
        purpose_code="membership-check",
        redirect_uri=service.redirect_uri_list()[0],
        consent_expires_at=expires_at,
    )
    decision = services.consent_request_decide(
        citizen=citizen, loa="substantial", request_id=request.pk, approve=True
    )
    return decision.consent


def _statuses(consent):
    return list(ConsentStatus.objects.filter(consent=consent).order_by("seq"))


def _utc(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _valid(record: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def _events(record):
    return record["dpv:hasConsentStatus"]


# The shape


def test_the_committed_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_records_of_every_state_validate_against_the_committed_schema(service):
    citizen = _citizen()
    given = _consent(citizen, service)
    ending = _consent(citizen, service, expires_at=timezone.now() + timedelta(days=30))
    withdrawn = _consent(citizen, service, ["profile.email", "youth.membership.birth_date"])
    services.consent_withdraw(citizen=citizen, consent_id=withdrawn.pk)
    expired = _consent(citizen, service, expires_at=timezone.now() + timedelta(days=1))
    services.consents_expire(now=timezone.now() + timedelta(days=2))

    for consent in (given, ending, withdrawn, expired):
        record = consent_record(citizen=citizen, consent_id=consent.pk)
        _valid(record)
        assert record["dct:identifier"] == str(consent.pk)
        assert record["dct:conformsTo"] == ["dpv-27560:record", SCHEMA["$id"]]
    # a schema that accepted anything would pass the above: it does not
    broken = consent_record(citizen=citizen, consent_id=given.pk)
    del broken["dpv:hasDataSubject"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_the_record_says_what_was_consented_to_whom_and_on_what_basis(service):
    citizen = _citizen()
    consent = _consent(citizen, service, ["profile.email", "youth.membership.birth_date"])

    record = consent_record(citizen=citizen, consent_id=consent.pk)

    [process] = record["dpv:hasProcess"]
    assert process["dpv:hasPurpose"]["dct:identifier"] == "membership-check"
    assert process["dpv:hasPurpose"]["skos:broader"] == "dpv:ServiceProvision"  # Core Function
    assert process["dpv:hasPurpose"]["dct:description"]["en"] == (
        "Checking your youth membership for bookings"
    )
    email, birth_date = process["dpv:hasPersonalData"]
    assert email == {
        "@type": "dpv:PersonalData",
        "dct:identifier": "profile.email",
        "skos:prefLabel": {"fi": "Sähköposti", "sv": "E-post", "en": "Email"},
        "skos:broader": "pd:EmailAddress",
    }
    assert birth_date["@type"] == "dpv:SensitivePersonalData"  # sensitive in the catalogue
    assert birth_date["skos:prefLabel"]["en"] == "Birth date"
    assert process["dpv:hasLegalBasis"] == ["eu-gdpr:A6-1-a", "dpv:ExplicitlyExpressedConsent"]
    assert record["dpv:hasJurisdiction"] == "loc:FI"
    controller, wallet = record["dpv:hasEntity"]
    assert process["dpv:hasDataController"] == controller["@id"]
    assert record["dct:publisher"] == wallet["@id"]  # the wallet keeps and issues the record
    assert controller["dpv:hasName"] == service.controller_name
    assert controller["schema:contactPoint"]["schema:email"] == service.controller_email
    assert record["dpv:hasNotice"][0]["@id"] == service.privacy_policy_url
    assert process["dpv:hasRecipient"] == [controller["@id"]]  # no third-party disclosure
    [receipt] = record["dct:relation"]
    assert receipt["dct:identifier"] == str(consent.receipt_id)
    assert record["dpv:hasConsentControl"][0]["dpv:isExercisedAt"].endswith("/consents/")


# The history


def test_every_status_in_the_chain_appears_as_an_event_in_order(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)
    chain = _statuses(consent)
    assert [s.state for s in chain] == ["given", "withdrawn"]

    events = _events(consent_record(citizen=citizen, consent_id=consent.pk))

    assert [e["@type"] for e in events] == [STATUS_CONCEPTS[s.state] for s in chain]
    assert [e["dpv:isIndicatedAtTime"] for e in events] == [_utc(s.recorded_at) for s in chain]
    # the pure builder orders by seq whatever order the records come in
    built = consent_record_build(
        consent=Consent.objects.select_related("service", "subject").get(pk=consent.pk),
        contents={"fields": FIELDS, "purpose": {"code": "membership-check"}},
        statuses=list(reversed(chain)),
    )
    assert [e["@type"] for e in _events(built)] == ["dpv:ConsentGiven", "dpv:ConsentWithdrawn"]


def test_a_withdrawn_consents_record_says_withdrawn_by_the_citizen_at_that_time(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    withdrawal = services.consent_withdraw(citizen=citizen, consent_id=consent.pk)

    record = consent_record(citizen=citizen, consent_id=consent.pk)

    last = _events(record)[-1]
    assert last["@type"] == "dpv:ConsentWithdrawn"
    assert last["dpv:isIndicatedAtTime"] == _utc(withdrawal.recorded_at)
    assert last["dpv:isIndicatedBy"] == record["dpv:hasDataSubject"]["@id"]


def test_a_consent_past_its_end_reads_expired_before_and_after_the_expiry_is_recorded(service):
    citizen = _citizen()
    ends = timezone.now() + timedelta(hours=1)
    consent = _consent(citizen, service, expires_at=ends)
    loaded = Consent.objects.select_related("service", "subject").get(pk=consent.pk)
    contents = {"fields": FIELDS, "purpose": {"code": "membership-check"}}
    before_end = consent_record_build(
        consent=loaded, contents=contents, statuses=_statuses(consent), now=ends - timedelta(1)
    )
    assert [e["@type"] for e in _events(before_end)] == ["dpv:ConsentGiven"]
    assert _events(before_end)[0]["dpv:hasDuration"]["rdf:value"]["@value"] == _utc(ends)

    # past the end, nothing recorded yet: the record says what every read already goes by
    after_end = consent_record_build(
        consent=loaded, contents=contents, statuses=_statuses(consent), now=ends
    )
    given, expired = _events(after_end)
    assert given["@type"] == "dpv:ConsentGiven"
    assert expired["@type"] == "dpv:ConsentExpired"
    assert expired["dpv:isIndicatedAtTime"] == _utc(ends)
    assert expired["dpv:isIndicatedBy"] == "_:wallet"
    _valid(after_end)

    # once recorded, the recorded event stands alone: no second expiry
    services.consents_expire(now=ends + timedelta(minutes=1))
    recorded = consent_record_build(
        consent=loaded, contents=contents, statuses=_statuses(consent), now=ends
    )
    expiry = _statuses(consent)[-1]
    assert [e["@type"] for e in _events(recorded)] == ["dpv:ConsentGiven", "dpv:ConsentExpired"]
    assert _events(recorded)[-1]["dpv:isIndicatedAtTime"] == _utc(expiry.recorded_at)


def test_a_consent_whose_history_is_gone_reads_unknown(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    ConsentStatus.objects.filter(consent=consent).delete()

    record = consent_record(citizen=citizen, consent_id=consent.pk)

    assert [e["@type"] for e in _events(record)] == ["dpv:ConsentUnknown"]
    _valid(record)


def test_the_same_consent_in_the_same_state_gives_the_same_record(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    first = json.dumps(consent_record(citizen=citizen, consent_id=consent.pk))

    _read(service, consent)  # a read by the service changes the access log, not the consent
    assert json.dumps(consent_record(citizen=citizen, consent_id=consent.pk)) == first

    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)
    assert json.dumps(consent_record(citizen=citizen, consent_id=consent.pk)) != first


# Who it names


def test_nothing_but_the_pairwise_id_identifies_the_citizen(service):
    citizen = CitizenFactory()
    profile_update_from_claims(
        citizen=citizen,
        claims={
            "given_name": "Saimi",
            "family_name": "Rekisteri",
            "email": "saimi.rekisteri@example.com",
            "phone_number": "+358401234567",
        },
    )
    consent = _consent(citizen, service, ["profile.email"])

    record = consent_record(citizen=citizen, consent_id=consent.pk)
    text = json.dumps(record, ensure_ascii=False)

    pairwise_id = str(consent.subject.pairwise_id)
    assert record["dpv:hasDataSubject"]["dct:identifier"] == pairwise_id
    for personal in ("Saimi", "Rekisteri", "saimi.rekisteri", "358401234567"):
        assert personal not in text
    assert citizen.subject not in text and str(citizen.pk) not in text
    # every id in it is the consent's, its receipt's or the pairwise id: none is the citizen's
    assert set(UUID.findall(text)) == {str(consent.pk), str(consent.receipt_id), pairwise_id}


# The vocabulary


def _compact_iris(node: Any, found: set[str]) -> None:
    """Every compact IRI a record uses: its keys, its types, and the values of the properties
    the context declares IRI-valued. Each key must be a keyword or a compact IRI, or JSON-LD
    would drop it silently."""
    iri_valued = {term for term, definition in CONTEXT.items() if definition == {"@type": "@id"}}
    if isinstance(node, list):
        for item in node:
            _compact_iris(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@context":
            continue
        if key.startswith("@"):
            assert key in {"@id", "@type", "@value"}, key
        else:
            found.add(key)
        if key == "@type" or key in iri_valued:
            values = value if isinstance(value, list) else [value]
            found.update(v for v in values if isinstance(v, str) and ":" in v)
        if key not in ("dct:description", "dct:title", "skos:prefLabel"):
            _compact_iris(value, found)


def _undeclared(iris: set[str]) -> set[str]:
    undeclared = set()
    for iri in iris:
        prefix, _, name = iri.partition(":")
        if prefix in ("urn", "_", "http", "https", "tag"):
            continue  # ids, not vocabulary
        if prefix not in NAMESPACES or name not in TERMS.get(prefix, ()):
            undeclared.add(iri)
    return undeclared


def test_records_use_only_declared_terms(service):
    # given records of every state, every purpose category, every catalogue field, disclosed
    citizen = _citizen()
    consent = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)
    loaded = Consent.objects.select_related("service", "subject").get(pk=consent.pk)
    records = [consent_record(citizen=citizen, consent_id=consent.pk)]
    for category in PurposeCategory.values:
        purpose = {"code": "x", "category": category, "third_party_disclosure": True}
        records.append(
            consent_record_build(
                consent=loaded,
                contents={"fields": catalogue.field_ids(), "purpose": purpose},
                statuses=_statuses(consent)[:1],
                now=timezone.now(),
            )
        )

    used: set[str] = set()
    for record in records:
        _compact_iris(record, used)

    assert _undeclared(used) == set()
    assert "dpv:ThirdParty" in used and "pd:EmailAddress" in used  # the walk sees values
    assert _undeclared({"dpv:ConsentGivn", "pd:Email", "dpv:Purpose"}) == {
        "dpv:ConsentGivn",
        "pd:Email",
    }


def test_every_table_maps_to_declared_terms_and_covers_its_domain():
    assert set(PURPOSE_CONCEPTS) == set(PurposeCategory.values)
    # a consent's states, the derived "unknown", and the request's requested and refused (the
    # request's own "expired" is spelled like the consent's)
    assert set(STATUS_CONCEPTS) == {
        *ConsentState.values,
        CONSENT_STATE_UNKNOWN,
        RequestState.REQUESTED,
        RequestState.REFUSED,
    }
    tables = [*PURPOSE_CONCEPTS.values(), *PERSONAL_DATA_CONCEPTS.values()]
    assert _undeclared(set(tables) | set(STATUS_CONCEPTS.values())) == set()
    # the PD mapping names catalogue fields that exist
    assert set(PERSONAL_DATA_CONCEPTS) <= set(catalogue.field_ids())


def test_every_prefix_the_context_names_is_declared_and_nothing_else():
    assert set(TERMS) == set(NAMESPACES)
    assert all(CONTEXT[prefix] == iri for prefix, iri in NAMESPACES.items())


# Queries


def test_one_record_costs_three_queries_and_the_builder_none(service):
    citizen = _citizen()
    consent = _consent(citizen, service)

    # 1 consent with service and pairwise id, 1 status records; 1 data key
    with assert_num_queries(default=2, keys=1):
        record = consent_record(citizen=citizen, consent_id=consent.pk)
    [view] = citizen_consents(citizen=citizen)
    with assert_num_queries(default=0, keys=0):
        assert consent_record_of_view(view) == record


def test_another_citizens_consent_has_no_record_for_you(service):
    consent = _consent(_citizen(), service)
    assert consent_record(citizen=CitizenFactory(), consent_id=consent.pk) is None


# The download and the page


def _browser(citizen, *, language="en"):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(citizen)
    session = browser.session
    session["wallet_loa"] = "substantial"
    session.save()
    return browser


def test_the_owner_downloads_the_record_as_a_file(service):
    citizen = _citizen()
    consent = _consent(citizen, service)
    browser = _browser(citizen)
    path = f"/consents/{consent.pk}/record.json"
    browser.get("/consents/")  # the session is loaded once

    # 1 session, 1 citizen, 1 consent with service and pairwise id, 1 status records; 1 key
    with assert_num_queries(default=4, keys=1):
        download = browser.get(path)

    assert download.status_code == 200
    assert download["Content-Type"] == "application/ld+json"
    assert download["Content-Disposition"] == (
        f'attachment; filename="consent-record-{consent.pk}.json"'
    )
    assert "no-store" in download["Cache-Control"]
    record = json.loads(download.content)
    _valid(record)
    assert record == consent_record(citizen=citizen, consent_id=consent.pk)


def test_nobody_else_gets_the_record(service):
    consent = _consent(_citizen(), service)
    other = _browser(CitizenFactory())

    assert other.get(f"/consents/{consent.pk}/record.json").status_code == 404
    assert other.get(f"/consents/{uuid.uuid4()}/record.json").status_code == 404
    visitor = Client().get(f"/consents/{consent.pk}/record.json")
    assert visitor.status_code == 302
    location = urlsplit(visitor["Location"])
    assert location.path == "/oidc/authenticate/"
    assert parse_qs(location.query)["next"] == [f"/consents/{consent.pk}/record.json"]


@pytest.mark.parametrize(
    ("language", "link"),
    [
        ("fi", "Lataa suostumustietue (ISO/IEC TS 27560)"),
        ("sv", "Ladda ner samtyckesposten (ISO/IEC TS 27560)"),
        ("en", "Download the consent record (ISO/IEC TS 27560)"),
    ],
)
def test_the_consent_page_links_the_record_next_to_the_receipt(service, language, link):
    citizen = _citizen()
    consent = _consent(citizen, service)
    services.consent_withdraw(citizen=citizen, consent_id=consent.pk)  # past consents too

    page = _browser(citizen, language=language).get("/consents/").content.decode()

    assert f'href="/consents/{consent.pk}/record.json" download>{link}</a>' in page
    assert f'href="/consents/{consent.pk}/receipt/"' in page


# GraphQL

ME_CONSENTS = "{ me { consents { id %s } } }"


def test_the_citizens_consents_carry_their_records_at_no_extra_query(service):
    citizen = _citizen()
    for _ in range(3):
        _consent(citizen, service)
    client = Client()
    client.force_login(citizen)

    def post(fields: str) -> dict[str, Any]:
        return client.post(
            "/graphql/", {"query": ME_CONSENTS % fields}, content_type="application/json"
        ).json()

    # session, citizen, consents, their statuses; 1 key: with or without the records
    with assert_num_queries(default=4, keys=1):
        post("")
    with assert_num_queries(default=4, keys=1):
        body = post("consentRecord")

    consents = body["data"]["me"]["consents"]
    assert len(consents) == 3
    for entry in consents:
        record = json.loads(entry["consentRecord"])
        _valid(record)
        assert record == consent_record(citizen=citizen, consent_id=uuid.UUID(entry["id"]))


# Settings


def test_the_jurisdiction_must_be_a_country_code_dpv_names():
    assert conf.problems({"JURISDICTION": "FI"}) == []
    assert conf.problems({"JURISDICTION": "EU"}) == []
    [problem] = conf.problems({"JURISDICTION": "Finland"})
    assert "WALLET_CONSENT_JURISDICTION" in problem and "two-letter ISO 3166-1" in problem


def test_another_jurisdiction_shows_in_the_record(service, settings):
    settings.CONSENT = {**settings.CONSENT, "JURISDICTION": "SE"}
    citizen = _citizen()
    consent = _consent(citizen, service)
    assert consent_record(citizen=citizen, consent_id=consent.pk)["dpv:hasJurisdiction"] == (
        "loc:SE"
    )
