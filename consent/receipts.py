"""Consent receipts in the shape of the Kantara Initiative Consent Receipt Specification v1.1,
signed as a JWS with the wallet's key (published at /.well-known/jwks.json), so anyone holding a
receipt can check that the wallet issued it and that it was not changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings

from consent.conf import consent_setting
from consent.models import Service, ServicePurpose
from wallet import catalogue, signing

RECEIPT_VERSION = "KI-CR-v1.1.0"
COLLECTION_METHOD = (
    "The service asked through the Oma.Helsinki wallet's consent request API; the citizen, "
    "signed in to the wallet, approved it."
)


def _termination(expires_at: datetime | None) -> str:
    until = f"until {expires_at.isoformat()}, or " if expires_at else ""
    return f"Valid {until}until the citizen withdraws it in the Oma.Helsinki wallet."


def receipt_build(
    *,
    receipt_id: uuid.UUID,
    given_at: datetime,
    expires_at: datetime | None,
    pairwise_id: uuid.UUID,
    service: Service,
    purpose: ServicePurpose,
    fields: list[str],
) -> dict[str, Any]:
    """The receipt's claims. `piiPrincipalId` is the pairwise id: the receipt names the citizen
    only as the service knows them. Field ids double as PII categories; sensitive ones are
    listed again in `spiCat`."""
    sensitive = [f for f in fields if catalogue.field_by_id(f).sensitive]
    controller: dict[str, Any] = {
        "piiController": service.controller_name,
        "contact": service.controller_contact or service.controller_name,
        "address": {"streetAddress": service.controller_address},
        "email": service.controller_email,
        "phone": service.controller_phone,
        "piiControllerUrl": service.privacy_policy_url,
    }
    purpose_entry: dict[str, Any] = {
        "purpose": purpose.description_en,
        "purposeCategory": [purpose.category],
        "consentType": "EXPLICIT",
        "piiCategory": fields,
        "primaryPurpose": True,
        "termination": _termination(expires_at),
        "thirdPartyDisclosure": purpose.third_party_disclosure,
    }
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": consent_setting("JURISDICTION"),
        "consentTimestamp": int(given_at.timestamp()),
        "collectionMethod": COLLECTION_METHOD,
        "consentReceiptID": str(receipt_id),
        "language": "en",
        "piiPrincipalId": str(pairwise_id),
        "piiControllers": [controller],
        "policyUrl": service.privacy_policy_url,
        "services": [{"service": service.name_en, "purposes": [purpose_entry]}],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        # JWT registered claims, so a verifier knows who signed and when.
        "iss": settings.WALLET_BASE_URL,
        "iat": int(given_at.timestamp()),
        "jti": str(receipt_id),
    }


def receipt_sign(claims: dict[str, Any]) -> str:
    return signing.jws_sign(claims)
