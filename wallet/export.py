"""The citizen's data export (GDPR articles 15 and 20): everything the wallet holds about them in
one JSON document, signed by the wallet, that validates against a versioned JSON Schema
(docs/schemas/wallet-export-v<N>.schema.json, served at /export/schema/v<N>.json). The format,
its versioning and how to verify an export are in docs/export.md.

The core builds the citizen, the profile and the access log; the members an app owns come
through `wallet.hooks.export_section_register` (the connectors' `sources` and `records`, the
consent app's `consents` and `consentRequests`). Every builder gets the same key, taken once, so
each sealed value is opened once and the number of queries does not grow with the data.

What the citizen can check offline, with nothing but the file and the wallet's JWKS:
- `signature`: a compact JWS under the wallet's signing key (`wallet.signing`, published at
  /.well-known/jwks.json) whose claims hold the SHA-256 of the document without `signature`,
  in its canonical form (`canonical_json`);
- the access log: each entry's `chainHash` is the SHA-256 of the canonical form of its
  CHAINED_MEMBERS, the previous entry's `chainHash` among them, so anyone can recompute the
  chain, and a later export's chain must pass through an earlier export's head. (Each entry's
  `mac` is the wallet's own check, under a key only the wallet has.)
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from wallet import hooks, signing
from wallet.access_log import AccessLogItem
from wallet.catalogue import PROFILE, CatalogueField, Labels, RecordKind, ValueType, choice_label
from wallet.hooks import ExportSection
from wallet.models import ACCESS_LOG_DETAILS, AccessLogEntry, AccessLogHead, Citizen
from wallet.selectors import CitizenWallet
from wallet.vault import Vault, citizen_reading

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "oma-helsinki-wallet-export"
EXPORT_VERSION = 1
SCHEMA_DIR = Path(settings.BASE_DIR) / "docs" / "schemas"

# An access-log entry's members that its `chainHash` covers, fixed for the format's version: a
# member added to entries later is not chained, so chains of older and newer exports still match.
CHAINED_MEMBERS = (
    "seq",
    "at",
    "service",
    "consentId",
    "consentIds",
    "fields",
    "withheldFields",
    "purposes",
    "requestId",
    "recordCount",
    "previousChainHash",
)


def canonical_json(value: Any) -> bytes:
    """The bytes the signature's digest and the chain hashes are taken over: keys sorted, no
    whitespace, UTF-8. For the export's values (text, integers, booleans, null; ASCII keys) this
    is RFC 8785's canonical form too, so a verifier in another language can reproduce it."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def schema_path(version: int = EXPORT_VERSION) -> Path:
    return SCHEMA_DIR / f"wallet-export-v{version}.schema.json"


def schema_url(version: int = EXPORT_VERSION) -> str:
    return settings.WALLET_BASE_URL + reverse("export-schema", args=[version])


def export_filename(exported_at: datetime) -> str:
    """The download's file name, with the date of the export in the wallet's time zone."""
    return f"oma-helsinki-export-{timezone.localdate(exported_at).isoformat()}.json"


def export_text(document: dict[str, Any]) -> str:
    """The document as the download gives it: indented for a person to read (the signature
    covers the canonical form, so the layout does not matter to it)."""
    return json.dumps(document, indent=2, ensure_ascii=False)


# Helpers for every section's builder


def iso(value: datetime | date | None) -> str | None:
    """A time as ISO 8601 (datetimes in UTC), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def labels_json(labels: Labels) -> dict[str, str]:
    return {"fi": labels.fi, "sv": labels.sv, "en": labels.en}


def field_json(field: CatalogueField, value: Any) -> dict[str, Any]:
    """One catalogue field of a record as the export gives it: its labels and type, and the
    value held (None when the record has none)."""
    entry: dict[str, Any] = {
        "label": labels_json(field.labels),
        "type": field.value_type.value,
        "sensitive": field.sensitive,
        "value": value,
    }
    if field.value_type == ValueType.ENUM:
        label = choice_label(field, value)
        entry["valueLabel"] = labels_json(label) if label else None
    elif field.value_type == ValueType.OBJECT_LIST:
        entry["subFieldLabels"] = {sub.key: labels_json(sub.labels) for sub in field.sub_fields}
    return entry


def record_fields(kind: RecordKind, payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every catalogue field of the kind, by field id, in catalogue order."""
    return {kind.field_id(f.key): field_json(f, payload.get(f.key)) for f in kind.fields}


def uncatalogued_values(kind: RecordKind | None, payload: dict[str, Any]) -> dict[str, Any]:
    """What the record holds beyond the catalogue's fields (a library's code beside its name):
    held, so exported."""
    known = set(kind.field_keys()) if kind is not None else set()
    return {key: value for key, value in payload.items() if key not in known}


# The core's sections


def _citizen(citizen: Citizen) -> dict[str, Any]:
    return {
        "id": str(citizen.pk),
        "issuer": citizen.issuer,
        "subject": citizen.subject,
        "joinedAt": iso(citizen.date_joined),
        "language": citizen.language or None,
    }


def _profile(citizen: Citizen, vault: Vault | None) -> dict[str, Any]:
    """Every profile field of the catalogue, by id: its value and where it came from (the
    login's claims, `oidc`, or the citizen, `citizen`); null for a field not given."""
    held = CitizenWallet(citizen, vault=vault, only_kinds=()).profile
    profile = {}
    for field in PROFILE.fields:
        entry = held.get(field.key)
        profile[PROFILE.field_id(field.key)] = {
            "label": labels_json(field.labels),
            "value": entry.value if entry else None,
            "origin": entry.source if entry else None,
            "updatedAt": iso(entry.updated_at) if entry else None,
        }
    return profile


def chain_hash(entry: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({member: entry[member] for member in CHAINED_MEMBERS}))


def _access_log_entry(
    row: AccessLogEntry, vault: Vault, previous_chain_hash: str
) -> dict[str, Any]:
    details = vault.open_json(ACCESS_LOG_DETAILS, row_id=row.seq, ciphertext=row.details)
    item = AccessLogItem(row.seq, row.created_at, row.service_id, row.consent_id, details)
    service = details.get("service") or {}
    names = service.get("names")  # entries older than the names have the English name only
    if names:
        names = {lang: str(names.get(lang, "")) for lang in ("fi", "sv", "en")}
    entry: dict[str, Any] = {
        "seq": row.seq,
        "at": iso(row.created_at),
        "service": {
            "id": str(row.service_id),
            "slug": service.get("slug"),
            "name": service.get("name"),
            "names": names or None,
        },
        "consentId": str(row.consent_id) if row.consent_id else None,
        "consentIds": [str(consent_id) for consent_id in item.consent_ids],
        "fields": list(details.get("fields", [])),
        "withheldFields": list(details.get("withheld", [])),
        "purposes": list(details.get("purposes", [])),
        "requestId": str(details.get("request_id", "")),
        "recordCount": details.get("records"),
        "previousMac": row.previous_mac,
        "mac": row.mac,
        "previousChainHash": previous_chain_hash,
    }
    entry["chainHash"] = chain_hash(entry)
    return entry


def _access_log(citizen: Citizen, vault: Vault | None) -> dict[str, Any]:
    """Every read of the citizen's data by a service, oldest first, with both chains. 2 queries
    (the entries, the head). Entries exist only under a key: without one none is readable."""
    rows = list(AccessLogEntry.objects.filter(citizen_id=citizen.pk).order_by("seq"))
    head = AccessLogHead.objects.filter(citizen_id=citizen.pk).first()
    entries: list[dict[str, Any]] = []
    previous = ""
    if vault is not None:
        for row in rows:
            entry = _access_log_entry(row, vault, previous)
            entries.append(entry)
            previous = entry["chainHash"]
    return {
        "chainedMembers": list(CHAINED_MEMBERS),
        "entries": entries,
        "head": {
            "seq": head.seq if head else 0,
            "mac": head.mac if head else "",
            "chainHash": previous,
        },
    }


_CORE_SECTIONS = (
    ExportSection("profile", _profile, order=10),
    ExportSection("accessLog", _access_log, order=90),
)
_HEADER = ("$schema", "format", "version", "exportedAt", "citizen", "signature")


def _sections() -> list[ExportSection]:
    sections = [*_CORE_SECTIONS, *hooks.export_sections()]
    keys = [section.key for section in sections]
    clashes = {key for key in keys if keys.count(key) > 1 or key in _HEADER}
    if clashes:
        raise ValueError(f"export sections clash with the core's members: {sorted(clashes)}")
    return sorted(sections, key=lambda section: section.order)


def _signature(document: dict[str, Any], citizen: Citizen, exported_at: datetime) -> str:
    head = document["accessLog"]["head"]
    return signing.jws_sign(
        {
            "iss": settings.WALLET_BASE_URL,
            "sub": str(citizen.pk),
            "iat": int(exported_at.timestamp()),
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exportedAt": document["exportedAt"],
            "documentSha256": sha256_hex(canonical_json(document)),
            "accessLogHead": {"seq": head["seq"], "chainHash": head["chainHash"]},
        }
    )


def citizen_export(*, citizen: Citizen) -> dict[str, Any]:
    """Everything the wallet holds about the citizen, signed (docs/export.md). The citizen's key
    is taken once; each section runs a fixed number of queries, whatever the amount of data.
    Each export is recorded in the log (the citizen's id only)."""
    vault = citizen_reading(citizen)
    exported_at = timezone.now()
    document: dict[str, Any] = {
        "$schema": schema_url(),
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exportedAt": iso(exported_at),
        "citizen": _citizen(citizen),
    }
    for section in _sections():
        document[section.key] = section.builder(citizen, vault)
    document["signature"] = _signature(document, citizen, exported_at)
    logger.info("citizen %s exported their data", citizen.pk)
    return document
