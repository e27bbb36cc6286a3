"""Consent receipts: Kantara Consent Receipt v1.1 claims, signed with the wallet's published key,
verifiable by anyone with nothing but the receipt and the wallet's JWKS."""

from __future__ import annotations

import json
import uuid

import jwt
import pytest

from consent.receipts import RECEIPT_VERSION
from tests.consent.conftest import grant

pytestmark = pytest.mark.django_db(databases="__all__")

RECEIPT = "query($id: ID!) { consentReceipt(id: $id) }"

# Kantara Consent Receipt Specification v1.1, required fields (section 5).
REQUIRED = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}
REQUIRED_CONTROLLER = {"piiController", "contact", "address", "email", "phone"}
REQUIRED_PURPOSE = {
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "termination",
    "thirdPartyDisclosure",
}


def test_receipt_verifies_against_the_published_jwks_and_carries_every_field(
    api, tokens, demo_services, live_server
):
    granted = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=["profile.email", "youth.membership.birth_date"],
        expires_at="2027-06-30T12:00:00+00:00",
    )
    receipt = api(RECEIPT, tokens.citizen("aino"), id=granted["consentId"])["data"][
        "consentReceipt"
    ]

    # anyone: fetch the wallet's JWKS over HTTP and verify with a stock JWT library
    jwks = jwt.PyJWKClient(f"{live_server.url}/.well-known/jwks.json")
    key = jwks.get_signing_key_from_jwt(receipt)
    claims = jwt.decode(receipt, key.key, algorithms=["ES256", "RS256"])

    assert set(claims) >= REQUIRED
    assert claims["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert claims["jurisdiction"] == "FI"
    assert uuid.UUID(claims["consentReceiptID"]).version == 4
    assert claims["piiPrincipalId"] == granted["citizenId"]  # the pairwise id, not the sub
    assert isinstance(claims["consentTimestamp"], int)
    [controller] = claims["piiControllers"]
    assert set(controller) >= REQUIRED_CONTROLLER
    [service] = claims["services"]
    assert service["service"] == "Youth centre bookings"
    [purpose] = service["purposes"]
    assert set(purpose) >= REQUIRED_PURPOSE
    assert purpose["piiCategory"] == ["profile.email", "youth.membership.birth_date"]
    assert purpose["consentType"] == "EXPLICIT"
    assert "2027-06-30" in purpose["termination"]
    assert claims["sensitive"] is True
    assert claims["spiCat"] == ["youth.membership.birth_date"]
    # no personal value in the receipt: it names fields, never their contents
    assert "aino" not in json.dumps(claims).lower()


def test_tampered_receipt_fails_verification(api, tokens, demo_services, client):
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=["profile.email"])
    receipt = api(RECEIPT, tokens.citizen("aino"), id=granted["consentId"])["data"][
        "consentReceipt"
    ]
    header, payload, signature = receipt.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["services"][0]["purposes"][0]["piiCategory"].append("profile.phone")
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"

    jwks = client.get("/.well-known/jwks.json").json()
    [published] = [k for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(receipt)["kid"]]
    key = jwt.PyJWK(published)
    jwt.decode(receipt, key.key, algorithms=[published["alg"]])  # the real one verifies
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.key, algorithms=[published["alg"]])


def test_only_the_consenting_citizen_gets_the_receipt(api, tokens, demo_services):
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=["profile.email"])

    by_eero = api(RECEIPT, tokens.citizen("eero"), id=granted["consentId"])
    assert by_eero["data"]["consentReceipt"] is None
    assert by_eero["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    by_service = api(RECEIPT, tokens.service("demo-service"), id=granted["consentId"])
    assert by_service["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    nobody = api(RECEIPT, None, id=granted["consentId"])
    assert nobody["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
