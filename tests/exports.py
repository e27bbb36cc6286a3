"""Helpers for the data export's tests: a citizen holding something of every kind, the committed
JSON Schema, and the offline verifier (scripts/verify_export.py) as a citizen would run it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
from django.conf import settings

from consent import services as consent_services
from consent.demo import demo_services_seed
from consent.models import Consent
from wallet import catalogue, signing
from wallet.catalogue import CatalogueField, RecordKind, ValueType
from wallet.export import schema_path
from wallet.models import Citizen
from wallet.services import (
    UpstreamRecord,
    citizen_get_or_create,
    profile_update_by_citizen,
    profile_update_from_claims,
    records_upsert,
)

ROOT = Path(__file__).resolve().parent.parent
VERIFY_SCRIPT = ROOT / "scripts" / "verify_export.py"

CLAIMS = {"given_name": "Testi", "family_name": "Henkilö", "email": "testi.henkilo@example.com"}
PHONE = "+358 40 123 4567"  # entered by the citizen
EXTRA = {"home_library_code": "oodi"}  # held beside the library account's catalogue fields


def committed_schema() -> dict[str, Any]:
    return dict(json.loads(schema_path().read_text()))


def validate(document: dict[str, Any]) -> None:
    """jsonschema.ValidationError unless `document` validates against the committed schema
    (formats checked too: dates, times)."""
    validator = jsonschema.Draft202012Validator(
        committed_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(document)


def value_for(field: CatalogueField, n: int = 0) -> Any:
    """A value of the field's type, different for each field and record."""
    match field.value_type:
        case ValueType.DATE:
            return f"2026-03-{n + 1:02d}"
        case ValueType.DATETIME:
            return f"2026-03-{n + 1:02d}T05:06:07+00:00"
        case ValueType.BOOLEAN:
            return True
        case ValueType.DECIMAL:
            return f"{n + 12}.50"
        case ValueType.INTEGER:
            return n + 3
        case ValueType.LIST:
            return [f"{field.key} {n}", "two"]
        case ValueType.ENUM:
            return field.choices[-1]
        case ValueType.OBJECT_LIST:
            return [{sub.key: f"{sub.key} {n}" for sub in field.sub_fields}]
    return f"{field.key} {n}"


def full_payload(kind: RecordKind, n: int = 0) -> dict[str, Any]:
    """Every catalogue field of the kind, filled."""
    payload = {field.key: value_for(field, n) for field in kind.fields}
    if kind.id == "library.account":
        payload.update(EXTRA)
    return payload


def record_kinds() -> list[RecordKind]:
    return [kind for kind in catalogue.kinds() if kind.kind is not None]


def _ask(service: Any, fields: list[str], hint: str | None = None) -> Any:
    return consent_services.consent_request_create(
        service=service,
        field_ids=fields,
        purpose_code=service.purposes.get().code,
        redirect_uri=service.redirect_uri_list()[0],
        citizen_hint=hint,
    )


def _give(citizen: Citizen, service: Any, fields: list[str]) -> Consent:
    request = _ask(service, fields)
    decision = consent_services.consent_request_decide(
        citizen=citizen, loa="high", request_id=request.pk, approve=True
    )
    assert decision.consent is not None
    return decision.consent


def citizen_with_everything(n: int = 1) -> Citizen:
    """A citizen with a profile (from the login and from themselves), `n` records of every kind
    with every field filled (and one ended loan), consents (given and withdrawn; `n` of each
    beyond the first), requests (refused, pending) and access-log entries (`n` reads and
    more)."""
    citizen, _ = citizen_get_or_create(issuer=settings.OIDC_ISSUER, subject=str(uuid.uuid4()))
    profile_update_from_claims(citizen=citizen, claims=CLAIMS)
    profile_update_by_citizen(citizen=citizen, values={"phone": PHONE})
    for kind in record_kinds():
        assert kind.kind is not None
        records = [
            UpstreamRecord(
                kind=kind.kind,
                external_id=f"{citizen.pk}-{kind.id}-{i}",
                payload=full_payload(kind, i),
            )
            for i in range(n)
        ]
        if kind.id == "library.loan":  # a loan returned since: ended, kept
            gone = UpstreamRecord(
                kind="loan", external_id=f"{citizen.pk}-gone", payload=full_payload(kind, 9)
            )
            records_upsert(citizen=citizen, source=kind.source, records=[*records, gone])
            records_upsert(
                citizen=citizen, source=kind.source, records=records, complete_kinds={"loan"}
            )
        else:
            records_upsert(citizen=citizen, source=kind.source, records=records)
    services = {service.slug: service for service in demo_services_seed()}
    youth, harbour = services["demo-service"], services["demo-service-2"]
    withdrawn = _give(citizen, youth, ["profile.email", "youth.membership.status"])
    consent_services.consent_withdraw(citizen=citizen, consent_id=withdrawn.pk)
    given = [_give(citizen, harbour, ["profile.email", "berths.lease.harbor"]) for _ in range(n)]
    refused = _ask(youth, ["profile.first_name"])
    consent_services.consent_request_decide(
        citizen=citizen, loa="high", request_id=refused.pk, approve=False
    )
    _ask(harbour, ["berths.boat.name"], hint=citizen.subject)  # pending, hinted to them
    for i, consent in enumerate(given):
        consent_services.citizen_data_read(
            service=harbour,
            pairwise_id=consent.subject.pairwise_id,
            request_id=f"read-{i}",
            field_ids=None,
        )
    consent_services.citizen_data_read(  # after the withdrawal: nothing shared, still logged
        service=youth,
        pairwise_id=withdrawn.subject.pairwise_id,
        request_id="read-withdrawn",
        field_ids=None,
    )
    return Citizen.objects.get(pk=citizen.pk)


def verifier() -> ModuleType:
    """scripts/verify_export.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("verify_export", VERIFY_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_jwks(directory: Path) -> Path:
    path = directory / "jwks.json"
    path.write_text(json.dumps(signing.jwks()))
    return path


def run_verifier(
    export: Path, jwks: Path, *, previous: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The script in its own process, with this Python: as a citizen runs it."""
    command = [sys.executable, str(VERIFY_SCRIPT), str(export), str(jwks)]
    if previous is not None:
        command += ["--previous", str(previous)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
