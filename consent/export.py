"""The consent app's members of the citizen's data export (wallet.export): `consents` (each with
its status chain, its signed receipt and its ISO/IEC TS 27560 record) and `consentRequests`.
Registered from ConsentConfig.ready() through wallet.hooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from consent.iso27560 import consent_record_of_view
from consent.models import CONSENT_RECEIPT, ConsentRequest, Service
from consent.selectors import (
    ConsentView,
    citizen_consent_requests_all,
    citizen_consents,
    request_effective_state,
)
from wallet.export import iso
from wallet.models import Citizen
from wallet.vault import Vault, citizen_reading_required


def _service(service: Service) -> dict[str, Any]:
    return {
        "id": str(service.pk),
        "slug": service.slug,
        "name": {"fi": service.name_fi, "sv": service.name_sv, "en": service.name_en},
    }


def _purpose(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The purpose as the consent keeps it (the service's words when it was given)."""
    description = snapshot.get("description") or {}
    return {
        "code": snapshot.get("code"),
        "description": {lang: description.get(lang, "") for lang in ("fi", "sv", "en")},
        "category": snapshot.get("category"),
        "thirdPartyDisclosure": bool(snapshot.get("third_party_disclosure")),
    }


def _consent(view: ConsentView, vault: Vault, now: datetime) -> dict[str, Any]:
    consent = view.consent
    statuses = list(consent.statuses.all())  # prefetched by citizen_consents
    digests = {status.pk: status.digest for status in statuses}
    return {
        "id": str(consent.pk),
        "service": _service(consent.service),
        "pairwiseId": str(consent.subject.pairwise_id),
        "requestId": consent.request_id,
        "fields": list(view.fields),
        "purpose": _purpose(view.purpose),
        "assurance": view.loa,
        "givenAt": iso(consent.given_at),
        "expiresAt": iso(consent.expires_at),
        "state": view.state,
        "statusChain": [
            {
                "seq": status.seq,
                "state": status.state,
                "actor": status.actor,
                "recordedAt": iso(status.recorded_at),
                "digest": status.digest,
                "previousDigest": digests.get(status.previous_id) if status.previous_id else None,
            }
            for status in statuses
        ],
        "receiptId": str(consent.receipt_id),
        "receipt": vault.open_text(CONSENT_RECEIPT, row_id=consent.pk, ciphertext=consent.receipt),
        # docs/consent-records.md; its own schema: docs/schemas/iso27560-consent-record-v1
        "consentRecord": consent_record_of_view(view, now=now),
    }


def consents_export(citizen: Citizen, vault: Vault | None) -> list[dict[str, Any]]:
    """Every consent the citizen gave, newest first, whatever its state now. 2 queries."""
    views = citizen_consents(citizen=citizen, vault=vault)
    if not views:
        return []
    vault = vault or citizen_reading_required(citizen)  # a consent exists only under a key
    now = timezone.now()
    return [_consent(view, vault, now) for view in views]


def _consent_id(request: ConsentRequest) -> str | None:
    consent_id = getattr(request, "consent_ref", None)  # annotated by the selector
    return str(consent_id) if consent_id else None


def consent_requests_export(citizen: Citizen, vault: Vault | None) -> list[dict[str, Any]]:
    """Every request made to the citizen, oldest first. 1 query."""
    return [
        {
            "id": request.pk,
            "service": _service(request.service),
            "purpose": {
                "code": request.purpose.code,
                "description": {
                    "fi": request.purpose.description_fi,
                    "sv": request.purpose.description_sv,
                    "en": request.purpose.description_en,
                },
            },
            # the service's ask; cleared once decided (a given consent keeps its own copy)
            "fields": list(request.fields),
            "state": request_effective_state(request),
            "createdAt": iso(request.created_at),
            "expiresAt": iso(request.expires_at),
            "decidedAt": iso(request.decided_at),
            "consentExpiresAt": iso(request.consent_expires_at),
            "consentId": _consent_id(request),
        }
        for request in citizen_consent_requests_all(citizen=citizen)
    ]
