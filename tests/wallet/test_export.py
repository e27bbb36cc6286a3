"""The citizen's data export (wallet.export): the document validates against the committed JSON
Schema, holds every catalogue field held, is signed, and its access-log chain can be recomputed
by anyone; the download, the schema URL and the `exportMyData` mutation."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from tests.exports import (
    CLAIMS,
    EXTRA,
    PHONE,
    citizen_with_everything,
    committed_schema,
    full_payload,
    record_kinds,
    run_verifier,
    validate,
    verifier,
    write_jwks,
)
from tests.queries import assert_num_queries
from wallet import catalogue, hooks, signing
from wallet.catalogue import CatalogueField, Labels, RecordKind, ValueType
from wallet.export import (
    CHAINED_MEMBERS,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    canonical_json,
    citizen_export,
    schema_path,
)
from wallet.models import AccessLogEntry
from wallet.services import UpstreamRecord, citizen_get_or_create, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")

EXPORT_MUTATION = "mutation { exportMyData { export errors { field message code } } }"


@pytest.fixture
def citizen():  # type: ignore[no-untyped-def]
    return citizen_with_everything()


@pytest.fixture
def exported(citizen) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return citizen_export(citizen=citizen)


# The document and its schema


def test_full_export_validates_against_the_committed_schema(exported):
    validate(exported)
    assert exported["format"] == "oma-helsinki-wallet-export"
    assert exported["version"] == EXPORT_VERSION == 1
    assert exported["$schema"].endswith("/export/schema/v1.json")
    assert list(exported) == [
        "$schema",
        "format",
        "version",
        "exportedAt",
        "citizen",
        "profile",
        "sources",
        "records",
        "consents",
        "consentRequests",
        "accessLog",
        "signature",
    ]


def test_a_drifted_document_does_not_validate(exported):
    """The schema is strict where drift would hide: a renamed member, a field the schema does
    not name, a value of the wrong type."""
    renamed = json.loads(json.dumps(exported))
    renamed["consents"][0]["given_at"] = renamed["consents"][0].pop("givenAt")
    unnamed = json.loads(json.dumps(exported))
    lease = next(r for r in unnamed["records"] if r["kind"] == "berths.lease")
    lease["fields"]["berths.lease.colour"] = dict(lease["fields"]["berths.lease.harbor"])
    mistyped = json.loads(json.dumps(exported))
    loan = next(r for r in mistyped["records"] if r["kind"] == "library.loan")
    loan["fields"]["library.loan.renewals"]["value"] = "three"
    for document in (renamed, unnamed, mistyped):
        with pytest.raises(jsonschema.ValidationError):
            validate(document)


def test_profile_gives_each_value_with_its_origin(exported):
    profile = exported["profile"]
    assert list(profile) == [catalogue.PROFILE.field_id(f.key) for f in catalogue.PROFILE.fields]
    assert profile["profile.email"]["value"] == CLAIMS["email"]
    assert profile["profile.email"]["origin"] == "oidc"
    assert profile["profile.phone"] == {
        "label": {"fi": "Puhelin", "sv": "Telefon", "en": "Phone"},
        "value": PHONE,
        "origin": "citizen",
        "updatedAt": profile["profile.phone"]["updatedAt"],
    }
    assert profile["profile.nickname"] == {
        "label": {"fi": "Kutsumanimi", "sv": "Tilltalsnamn", "en": "Nickname"},
        "value": None,
        "origin": None,
        "updatedAt": None,
    }


def test_every_catalogue_field_held_appears_in_the_export(exported):
    """Checked field by field against a record of every kind with every field filled."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for record in exported["records"]:
        by_kind.setdefault(record["kind"], []).append(record)
    missing = []
    for kind in record_kinds():
        [record] = [r for r in by_kind.get(kind.id, []) if r["state"] == "active"]
        payload = full_payload(kind)
        for field in kind.fields:
            field_id = kind.field_id(field.key)
            entry = record["fields"].get(field_id)
            if entry is None or entry["value"] != payload[field.key]:
                missing.append(field_id)
            elif entry["label"] != {
                "fi": field.labels.fi,
                "sv": field.labels.sv,
                "en": field.labels.en,
            }:
                missing.append(f"{field_id} (label)")
    assert missing == []


def test_records_carry_their_source_state_times_and_why_the_city_holds_them(exported):
    account = next(r for r in exported["records"] if r["kind"] == "library.account")
    assert account["otherValues"] == EXTRA  # held beside the catalogue's fields: exported too
    assert account["processing"]["controller"]["en"].startswith("City of Helsinki")
    assert set(account["processing"]) == {"controller", "lawfulBasis", "purpose", "retention"}
    [ended] = [r for r in exported["records"] if r["state"] == "ended"]
    assert ended["kind"] == "library.loan" and ended["endedAt"] is not None
    status = next(r for r in exported["records"] if r["kind"] == "youth.membership")
    entry = status["fields"]["youth.membership.status"]
    assert entry["value"] == "EXPIRED"
    assert entry["valueLabel"] == {"fi": "Päättynyt", "sv": "Utgånget", "en": "Expired"}
    contacts = status["fields"]["youth.membership.additional_contact_persons"]
    assert contacts["subFieldLabels"]["phone"]["en"] == "Phone"


def _schema_gaps(schema: dict[str, Any], kinds: list[RecordKind]) -> list[str]:
    """What the schema does not say of each kind's catalogue fields: the field id missing (or
    not required) in its kind's definition, a field id the catalogue no longer has, a value type,
    enum choices or object-list sub-fields that differ."""
    defs = schema["$defs"]
    simple = {
        ValueType.STRING: "fieldString",
        ValueType.DATE: "fieldDate",
        ValueType.DATETIME: "fieldDateTime",
        ValueType.BOOLEAN: "fieldBoolean",
        ValueType.DECIMAL: "fieldDecimal",
        ValueType.INTEGER: "fieldInteger",
        ValueType.LIST: "fieldList",
    }
    gaps = []
    for kind in kinds:
        if kind.kind is None:
            named = defs["profile"]
        else:
            definition = defs.get(f"record.{kind.id}")
            if definition is None:
                gaps.append(f"{kind.id}: no $defs/record.{kind.id}")
                continue
            if {"$ref": f"#/$defs/record.{kind.id}"} not in defs["record"]["oneOf"]:
                gaps.append(f"{kind.id}: not among the records' kinds")
            if kind.id not in defs["recordOfUnknownKind"]["properties"]["kind"]["not"]["enum"]:
                gaps.append(f"{kind.id}: not excluded from recordOfUnknownKind")
            named = definition["properties"]["fields"]
        ids = [kind.field_id(f.key) for f in kind.fields]
        for gone in set(named["properties"]) - set(ids):
            gaps.append(f"{gone}: in the schema, not in the catalogue")
        for field in kind.fields:
            field_id = kind.field_id(field.key)
            shape = named["properties"].get(field_id)
            if shape is None or field_id not in named["required"]:
                gaps.append(f"{field_id}: not named")
            elif kind.kind is None:
                continue
            elif field.value_type in simple:
                if shape != {"$ref": f"#/$defs/{simple[field.value_type]}"}:
                    gaps.append(f"{field_id}: not a {field.value_type} field")
            elif field.value_type == ValueType.ENUM:
                if shape["properties"]["value"]["enum"] != [*field.choices, None]:
                    gaps.append(f"{field_id}: other choices")
            else:  # OBJECT_LIST
                items = shape["properties"]["value"]["items"]["properties"]
                if set(items) != {sub.key for sub in field.sub_fields}:
                    gaps.append(f"{field_id}: other sub-fields")
    return gaps


def test_every_catalogue_field_is_named_in_the_committed_schema_for_its_kind():
    """A field added to the catalogue fails here until the schema names it (docs/export.md:
    versioning), and so does one removed or retyped."""
    assert _schema_gaps(committed_schema(), catalogue.kinds()) == []


def test_a_new_catalogue_field_or_kind_would_be_a_gap():
    boat = catalogue.kind("berths.boat")
    grown = RecordKind(
        source=boat.source,
        kind=boat.kind,
        labels=boat.labels,
        fields=(*boat.fields, CatalogueField("hull", Labels("Runko", "Skrov", "Hull"))),
    )
    new = RecordKind("berths", "mooring", Labels("Poiju", "Boj", "Buoy"), grown.fields[:1])
    retyped = RecordKind(
        "library",
        "loan",
        catalogue.kind("library.loan").labels,
        (CatalogueField("renewals", Labels("a", "b", "c"), ValueType.STRING),),
    )
    schema = committed_schema()
    assert _schema_gaps(schema, [grown]) == ["berths.boat.hull: not named"]
    assert _schema_gaps(schema, [new]) == ["berths.mooring: no $defs/record.berths.mooring"]
    assert sorted(_schema_gaps(schema, [retyped])) == [
        "library.loan.call_number: in the schema, not in the catalogue",
        "library.loan.due_date: in the schema, not in the catalogue",
        "library.loan.renewals: not a string field",
    ]


def test_a_field_of_a_kind_registered_later_is_exported_and_validates():
    """The export follows the catalogue, not a list of its own: a kind registered now (a new
    source's) comes out with its fields, labelled, and the v1 schema accepts it as a kind it
    does not describe."""
    extra = RecordKind(
        source="youth",
        kind="test_badge",
        labels=Labels("Merkki", "Märke", "Badge"),
        fields=(CatalogueField("colour", Labels("Väri", "Färg", "Colour")),),
    )
    catalogue.register(extra)
    try:
        citizen, _ = citizen_get_or_create(issuer="https://idp.example", subject="badge")
        records_upsert(
            citizen=citizen,
            source="youth",
            records=[
                UpstreamRecord(kind="test_badge", external_id="b1", payload={"colour": "red"})
            ],
        )
        document = citizen_export(citizen=citizen)
    finally:
        catalogue.unregister(extra.id)
    validate(document)
    [record] = document["records"]
    assert record["kind"] == "youth.test_badge"
    assert record["fields"]["youth.test_badge.colour"]["value"] == "red"
    assert record["label"] == {"fi": "Merkki", "sv": "Märke", "en": "Badge"}


def test_export_of_a_citizen_with_nothing_validates_and_is_empty():
    citizen, _ = citizen_get_or_create(issuer="https://idp.example", subject="nobody")
    document = citizen_export(citizen=citizen)
    validate(document)
    assert all(entry["value"] is None for entry in document["profile"].values())
    assert (document["records"], document["consents"], document["consentRequests"]) == ([], [], [])
    assert document["accessLog"]["entries"] == []
    assert document["accessLog"]["head"] == {"seq": 0, "mac": "", "chainHash": ""}


def test_queries_do_not_grow_with_the_data():
    small = citizen_with_everything(n=1)
    large = citizen_with_everything(n=3)
    # data: 1 profile, 1 syncs + 1 library link (sources), 1 records, 1 consents + 1 their
    # statuses, 1 requests, 1 access-log entries + 1 its head; keys: 1 data key
    for citizen in (small, large):
        with assert_num_queries(default=9, keys=1):
            document = citizen_export(citizen=citizen)
    assert len(document["records"]) > 3 * len(record_kinds())
    assert len(document["accessLog"]["entries"]) == 4
    assert len(document["consents"]) == 4


def test_each_sealed_value_is_opened_once(citizen, monkeypatch):
    from wallet.vault import Vault

    opened: list[tuple[str, object]] = []
    real_open = Vault.open

    def counting_open(self, field, *, row_id, ciphertext):  # type: ignore[no-untyped-def]
        opened.append((repr(field), field.row_id(row_id)))
        return real_open(self, field, row_id=row_id, ciphertext=ciphertext)

    monkeypatch.setattr(Vault, "open", counting_open)
    citizen_export(citizen=citizen)
    assert len(opened) == len(set(opened))
    opened_fields = {name for name, _ in opened}
    assert opened_fields == {
        "SealedField(Profile.payload)",
        "SealedField(DataRecord.payload)",
        "SealedField(AccessLogEntry.details)",
        "SealedField(Consent.contents)",
        "SealedField(Consent.receipt)",
    }


def test_a_second_builder_for_a_taken_key_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        hooks.export_section_register("records", lambda citizen, vault: [])


# The signature and the access-log chain


def test_signature_is_the_wallets_over_the_document_without_it(exported, citizen):
    claims = signing.jws_verify(exported["signature"])
    unsigned = {k: v for k, v in exported.items() if k != "signature"}
    assert claims["documentSha256"] == hashlib.sha256(canonical_json(unsigned)).hexdigest()
    assert claims["sub"] == str(citizen.pk) == exported["citizen"]["id"]
    assert claims["exportedAt"] == exported["exportedAt"]
    head = exported["accessLog"]["head"]
    assert claims["accessLogHead"] == {"seq": head["seq"], "chainHash": head["chainHash"]}
    # the indented download and the compact form are one document to the digest
    assert canonical_json(json.loads(json.dumps(unsigned, indent=2))) == canonical_json(unsigned)


def test_access_log_chain_is_recomputable_and_matches_the_stored_log(exported, citizen):
    log = exported["accessLog"]
    entries = log["entries"]
    stored = list(AccessLogEntry.objects.filter(citizen=citizen).order_by("seq"))
    assert [e["seq"] for e in entries] == [row.seq for row in stored] == [1, 2]
    assert [e["mac"] for e in entries] == [row.mac for row in stored]
    previous = ""
    for entry in entries:
        assert entry["previousChainHash"] == previous
        chained = {member: entry[member] for member in CHAINED_MEMBERS}
        assert entry["chainHash"] == hashlib.sha256(canonical_json(chained)).hexdigest()
        previous = entry["chainHash"]
    assert log["head"] == {"seq": 2, "mac": stored[-1].mac, "chainHash": previous}
    shared, withdrawn = entries
    assert shared["fields"] == ["profile.email", "berths.lease.harbor"]
    assert shared["service"]["slug"] == "demo-service-2" and shared["consentIds"]
    assert withdrawn["fields"] == [] and withdrawn["consentIds"] == []
    assert withdrawn["withheldFields"]  # asked for, refused: the withdrawal held


def test_an_entry_written_before_names_and_consent_ids_is_exported_as_it_was():
    from wallet.access_log import access_log_append
    from wallet.vault import citizen_key_at

    citizen, _ = citizen_get_or_create(issuer="https://idp.example", subject="old-log")
    citizen_key_at(citizen_id=citizen.pk, generation=1)  # a first key, as a first consent makes
    service_id, consent_id = uuid.uuid4(), uuid.uuid4()
    old_details = {
        "service": {"slug": "old-service", "name": "Old service"},
        "fields": ["profile.email"],
        "withheld": [],
        "purposes": ["p"],
        "request_id": "r-1",
    }
    access_log_append(
        citizen=citizen, service_id=service_id, consent_id=consent_id, details=old_details
    )
    document = citizen_export(citizen=citizen)
    validate(document)
    [entry] = document["accessLog"]["entries"]
    assert entry["service"] == {
        "id": str(service_id),
        "slug": "old-service",
        "name": "Old service",
        "names": None,
    }
    assert entry["consentIds"] == [str(consent_id)] and entry["recordCount"] is None


def test_a_later_export_repeats_the_earlier_chain(citizen):
    """Nothing in an entry's chained members depends on when it was exported."""
    first = citizen_export(citizen=citizen)
    second = citizen_export(citizen=citizen)
    assert first["accessLog"]["entries"] == second["accessLog"]["entries"]
    assert first["accessLog"]["entries"]


# The offline verifier, on real exports


def test_verify_script_accepts_a_real_export_and_names_what_it_checked(exported, tmp_path):
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported, indent=2, ensure_ascii=False))
    result = run_verifier(export, write_jwks(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "over this very document" in result.stdout
    assert "2 entries, chained end to end" in result.stdout
    assert "2 receipt(s) signed by the wallet" in result.stdout
    assert result.stdout.strip().endswith("verified")


def _tampered(document: dict[str, Any], change: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    change(copy)
    return copy


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["profile"]["profile.email"].update(value="other@example.com"),
            "made for another document",
        ),
        (lambda d: d["accessLog"]["entries"].pop(0), "entry 1 is numbered 2"),
        (lambda d: d["accessLog"]["entries"][1].update(requestId="x"), "entry 2 was changed"),
        (lambda d: d["accessLog"]["entries"].pop(), "the head does not name the last entry"),
        (lambda d: d.update(signature=d["consents"][0]["receipt"]), "made for another document"),
        (
            lambda d: d["consents"][0].update(receipt=d["consents"][1]["receipt"]),
            "the receipt is another consent's",
        ),
    ],
)
def test_verify_script_refuses_a_changed_export(exported, change, problem):
    keys = verifier().load_keys(signing.jwks())
    report = verifier().verify(_tampered(exported, change), keys)
    assert any(problem in line for line in report.problems), report.problems


def test_verify_script_refuses_a_key_that_is_not_the_wallets(exported, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    other = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**other, "kid": "other", "alg": "ES256"}]}))
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported))
    result = run_verifier(export, jwks)
    assert result.returncode == 1
    assert "signed by a key that is not in the JWKS" in result.stdout


def test_verify_script_checks_a_later_export_extends_an_earlier_one(citizen, tmp_path):
    from consent import services as consent_services
    from consent.models import Consent

    older = tmp_path / "older.json"
    older.write_text(json.dumps(citizen_export(citizen=citizen)))
    consent = Consent.objects.filter(citizen=citizen, service__slug="demo-service-2").first()
    consent_services.citizen_data_read(
        service=consent.service,
        pairwise_id=consent.subject.pairwise_id,
        request_id="later",
        field_ids=None,
    )
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(citizen_export(citizen=citizen)))
    jwks = write_jwks(tmp_path)

    extended = run_verifier(newer, jwks, previous=older)
    assert extended.returncode == 0, extended.stdout
    assert "extends the older one's (entry 2)" in extended.stdout

    # the wallet rewrote history: an entry the older export holds is different now
    rewritten = json.loads(older.read_text())
    rewritten["accessLog"]["entries"][1]["purposes"] = ["something-else"]
    rewritten["accessLog"]["entries"][1]["chainHash"] = "0" * 64
    rewritten["accessLog"]["head"]["chainHash"] = "0" * 64
    forged = tmp_path / "forged-older.json"
    forged.write_text(json.dumps(rewritten))
    refused = run_verifier(newer, jwks, previous=forged)
    assert refused.returncode == 1
    assert "does not extend the older export's (at entry 2)" in refused.stdout


def test_verify_script_says_when_the_input_is_unusable(tmp_path):
    export = tmp_path / "export.json"
    export.write_text("{not json")
    result = run_verifier(export, write_jwks(tmp_path))
    assert result.returncode == 2 and "cannot verify" in result.stderr


# The download, the schema URL, the mutation, the page


def test_download_is_the_signed_in_citizens_signed_export_as_a_file(citizen, tmp_path):
    client = Client()
    client.force_login(citizen)
    response = client.get("/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="oma-helsinki-export-{today}.json"'
    )
    document = json.loads(response.content)
    validate(document)
    assert document["citizen"]["id"] == str(citizen.pk)
    export = tmp_path / "download.json"
    export.write_bytes(response.content)
    assert run_verifier(export, write_jwks(tmp_path)).returncode == 0


def test_download_sends_a_visitor_to_sign_in():
    response = Client().get("/export/")
    assert response.status_code == 302
    assert response["Location"].startswith("/oidc/authenticate/")
    assert "next=%2Fexport%2F" in response["Location"]


def test_each_export_is_logged_with_the_citizens_id_only(citizen, caplog):
    client = Client()
    client.force_login(citizen)
    with caplog.at_level(logging.INFO, logger="wallet.export"):
        client.get("/export/")
    [line] = [r.getMessage() for r in caplog.records if r.name == "wallet.export"]
    assert line == f"citizen {citizen.pk} exported their data"


def test_schema_is_served_at_the_url_the_export_names(exported):
    path = exported["$schema"].split("://", 1)[1].split("/", 1)[1]
    response = Client().get(f"/{path}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    assert json.loads(response.content) == committed_schema()
    assert committed_schema()["$id"] == "urn:oma-helsinki:wallet-export:v1"
    assert schema_path(1).name == "wallet-export-v1.schema.json"
    assert Client().get("/export/schema/v2.json").status_code == 404


def test_export_my_data_over_graphql_returns_the_document(citizen):
    client = Client()
    client.force_login(citizen)
    response = client.post(
        "/graphql/", {"query": EXPORT_MUTATION}, content_type="application/json"
    ).json()
    payload = response["data"]["exportMyData"]
    assert payload["errors"] == []
    document = json.loads(payload["export"])
    validate(document)
    assert signing.jws_verify(document["signature"])["sub"] == str(citizen.pk)


def test_export_my_data_needs_a_citizen():
    response = Client().post(
        "/graphql/", {"query": EXPORT_MUTATION}, content_type="application/json"
    )
    body = response.json()
    assert body["data"]["exportMyData"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_one_export_per_operation(citizen):
    """Each export opens everything: aliases cannot multiply it (as a logged read)."""
    client = Client()
    client.force_login(citizen)
    twice = "mutation { a: exportMyData { errors { code } } b: exportMyData { errors { code } } }"
    response = client.post("/graphql/", {"query": twice}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_LOGGED_READS"


def test_profile_page_offers_the_download(citizen):
    client = Client()
    client.force_login(citizen)
    page = client.get("/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your data" in page
    assert re.search(r'<a [^>]*href="/export/"[^>]*download', page)
    finnish = client.get("/profile/").content.decode()
    assert "Lataa tietosi (JSON)" in finnish


def test_the_offline_verifier_chains_the_members_the_wallet_chains():
    """scripts/verify_export.py stands alone (a citizen runs it without the wallet), so it keeps
    its own copy of the format's constants: they must be the wallet's."""
    script = verifier()
    assert script.CHAINED_MEMBERS == CHAINED_MEMBERS
    assert (script.FORMAT, script.VERSION) == (EXPORT_FORMAT, EXPORT_VERSION)
