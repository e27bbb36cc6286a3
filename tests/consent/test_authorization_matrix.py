"""The authorization matrix: every service-facing query and mutation against every kind of
caller — no token, a citizen, a service with no consent, partial consent, another service's
consent, a withdrawn or an expired consent — and the citizen-facing ones against a service token
and no token. Each cell asserts its exact outcome, and that no personal value of the citizen
appears anywhere in the response unless that very field was consented."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.utils import timezone

from consent.demo import DEMO_SERVICES
from consent.models import Consent, ConsentStatus, Service
from consent.selectors import service_cache_clear
from consent.services import consents_expire
from sandbox.demo import AINO, AINO_YOUTH_CARD
from tests.consent.conftest import (
    CITIZEN_DATA,
    CONSENT_REQUEST,
    DECIDE,
    PURPOSES,
    REDIRECT_URIS,
    REQUEST_CONSENT,
    WITHDRAW,
    grant,
)
from wallet.models import Citizen

pytestmark = pytest.mark.django_db(databases="__all__")

SYNC = "mutation { syncMyData { sources { source status } } }"
ME = """{ me { consents { id state fields { id } history { seq state actor } }
               consentRequests { id state fields { id } }
               accessLog { edges { node { fields withheldFields requestId } } } } }"""
RECEIPT = "query($id: ID!) { consentReceipt(id: $id) }"

# Everything demo-service registered, in registration order (the default of a read).
REGISTERED: list[str] = next(d["fields"] for d in DEMO_SERVICES if d["slug"] == "demo-service")

# What each consentable field would reveal of aino, as it appears in a response.
REVEALS = {
    "profile.email": AINO.email,
    "profile.first_name": AINO.first_name,
    "profile.last_name": AINO.last_name,
    "youth.membership.membership_number": AINO_YOUTH_CARD.membership_number,
    "youth.membership.expiration": AINO_YOUTH_CARD.expiration.isoformat(),
    "youth.membership.birth_date": AINO_YOUTH_CARD.birth_date.isoformat(),
}
# Values no service may ever see: her real subject id and what demo-service cannot ask for.
NEVER = (
    str(AINO.sub),
    AINO_YOUTH_CARD.school_name,
    AINO_YOUTH_CARD.approver_first_name,
    AINO_YOUTH_CARD.approver_phone,
    AINO_YOUTH_CARD.approver_email,
)


def assert_leaks_nothing(response: dict[str, Any], *, consented: list[str] | None = None) -> None:
    body = json.dumps(response)
    for field_id, value in REVEALS.items():
        if field_id not in (consented or []):
            assert value not in body, f"{field_id} ({value!r}) leaked: {body}"
    for value in NEVER:
        assert value not in body, f"{value!r} leaked: {body}"


def top_level_error(response: dict[str, Any], operation: str) -> str:
    """The code of a refused call: the field is null and one error names the code."""
    assert response["data"] is None or response["data"][operation] is None, response
    [error] = response["errors"]
    return str(error["extensions"]["code"])


# Arranging the situations


@dataclass(frozen=True)
class Cell:
    """Who calls (a token or none, and as which service), and the ids it calls with."""

    caller: str | None
    service: str  # the calling service, or the one whose arguments a non-service caller uses
    request_id: str
    citizen_id: str
    consent_id: str | None
    consented: list[str]


def sync_aino(api: Any, tokens: Any) -> None:
    """Aino's wallet gets her youth card (her profile comes with her first token)."""
    synced = api(SYNC, tokens.citizen("aino"))["data"]["syncMyData"]["sources"]
    assert {"source": "youth", "status": "SUCCEEDED"} in synced


def arrange(situation: str, api: Any, tokens: Any, *, records: bool = False) -> Cell:
    """Aino's wallet holds her profile (and, with `records`, her youth card); demo-service
    stands in the situation."""
    aino = tokens.citizen("aino")
    if records:
        sync_aino(api, tokens)

    if situation == "service without consent":
        asked = api(
            REQUEST_CONSENT,
            tokens.service("demo-service"),
            fields=REGISTERED,
            purpose=PURPOSES["demo-service"],
            redirectUri=REDIRECT_URIS["demo-service"],
            hint=str(AINO.sub),
        )["data"]["requestConsent"]["request"]
        # her real subject id is the one id such a service could know
        return Cell(
            caller=tokens.service("demo-service"),
            service="demo-service",
            request_id=asked["id"],
            citizen_id=str(AINO.sub),
            consent_id=None,
            consented=[],
        )

    fields = ["profile.email"] if situation == "partial consent" else REGISTERED
    expires_at = (timezone.now() + timedelta(hours=1)).isoformat()
    given = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=fields,
        expires_at=expires_at if situation == "expired" else None,
    )
    consented = fields
    if situation == "withdrawn":
        withdrawn = api(WITHDRAW, aino, id=given["consentId"])["data"]["withdrawConsent"]
        assert withdrawn["errors"] == []
        consented = []
    if situation == "expired":
        # Consents are immutable in the product; the test ages this one. No `expired` record
        # exists yet: the read itself must notice.
        Consent.objects.filter(pk=given["consentId"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        consented = []

    callers = {
        "no token": (None, "demo-service"),
        "the citizen herself": (aino, "demo-service"),
        "another citizen": (tokens.citizen("eero"), "demo-service"),
        "another service's consent": (tokens.service("demo-service-2"), "demo-service-2"),
    }
    caller, service = callers.get(situation, (tokens.service("demo-service"), "demo-service"))
    return Cell(
        caller=caller,
        service=service,
        request_id=given["id"],
        citizen_id=given["citizenId"],
        consent_id=given["consentId"],
        consented=consented if caller == tokens.service("demo-service") else [],
    )


# Service-facing: citizenData


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("no token", "UNAUTHENTICATED"),
        ("the citizen herself", "PERMISSION_DENIED"),
        ("another citizen", "PERMISSION_DENIED"),
        ("service without consent", "NOT_FOUND"),
        ("partial consent", ["profile.email"]),
        ("another service's consent", "NOT_FOUND"),
        ("withdrawn", []),
        ("expired", []),
        ("full consent", REGISTERED),
    ],
)
def test_citizen_data(api, tokens, demo_services, situation, expected):
    cell = arrange(situation, api, tokens, records=True)

    response = api(CITIZEN_DATA, cell.caller, id=cell.citizen_id)

    assert_leaks_nothing(response, consented=cell.consented)
    if isinstance(expected, str):
        assert top_level_error(response, "citizenData") == expected
        return
    read = response["data"]["citizenData"]
    assert read["citizenId"] == cell.citizen_id
    assert read["grantedFields"] == expected
    assert read["withheldFields"] == [f for f in REGISTERED if f not in expected]
    values = {v["fieldId"]: v["value"] for r in read["records"] for v in r["values"]}
    assert set(values) <= set(expected)
    assert {f: values[f] for f in expected if f in REVEALS} == {
        f: v for f, v in REVEALS.items() if f in expected
    }
    if not expected:
        assert read["records"] == []


def test_partial_consent_withholds_what_is_asked_for_by_name(api, tokens, demo_services):
    cell = arrange("partial consent", api, tokens, records=True)
    asked = ["youth.membership.birth_date", "profile.email", "profile.first_name"]

    response = api(CITIZEN_DATA, cell.caller, id=cell.citizen_id, fields=asked)

    read = response["data"]["citizenData"]
    assert read["grantedFields"] == ["profile.email"]
    assert read["withheldFields"] == ["youth.membership.birth_date", "profile.first_name"]
    assert read["records"] == [
        {"kind": "profile", "values": [{"fieldId": "profile.email", "value": AINO.email}]}
    ]
    assert_leaks_nothing(response, consented=["profile.email"])


def test_no_consent_id_guess_finds_anyone(api, tokens, demo_services):
    """A made-up pairwise id answers exactly like the citizen's real subject id, and like
    another service's pairwise id: NOT_FOUND."""
    cell = arrange("service without consent", api, tokens)
    other = grant(api, tokens, service="demo-service-2", citizen="aino", fields=["profile.email"])

    for guess in (str(uuid.uuid4()), str(AINO.sub), other["citizenId"]):
        response = api(CITIZEN_DATA, cell.caller, id=guess)
        assert top_level_error(response, "citizenData") == "NOT_FOUND"
        assert response["errors"][0]["message"] == (
            "No citizen with this id has a consent for you."
        )
        assert_leaks_nothing(response)


# Service-facing: consentRequest


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("no token", "UNAUTHENTICATED"),
        ("the citizen herself", "GIVEN"),  # her own, decided request
        ("another citizen", "NOT_FOUND"),
        ("service without consent", "REQUESTED"),
        ("partial consent", "GIVEN"),
        ("another service's consent", "NOT_FOUND"),
        # The request was granted; what became of the consent later is the consent's state
        ("withdrawn", "GIVEN"),
        ("expired", "GIVEN"),
        ("full consent", "GIVEN"),
    ],
)
def test_consent_request(api, tokens, demo_services, situation, expected):
    cell = arrange(situation, api, tokens)

    response = api(CONSENT_REQUEST, cell.caller, id=cell.request_id)

    assert_leaks_nothing(response)
    if expected in ("UNAUTHENTICATED", "NOT_FOUND"):
        assert top_level_error(response, "consentRequest") == expected
        return
    request = response["data"]["consentRequest"]
    assert request["id"] == cell.request_id and request["state"] == expected
    if expected == "REQUESTED":
        assert request["citizenId"] is None and request["consentId"] is None
        assert [f["id"] for f in request["fields"]] == REGISTERED  # the service's own ask
    else:
        assert request["citizenId"] == cell.citizen_id
        assert request["consentId"] == cell.consent_id
        assert request["fields"] == []  # forgotten once decided


# Service-facing: requestConsent


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("no token", "UNAUTHENTICATED"),
        ("the citizen herself", "PERMISSION_DENIED"),
        ("another citizen", "PERMISSION_DENIED"),
        ("service without consent", "REQUESTED"),
        ("partial consent", "REQUESTED"),
        ("another service's consent", "REQUESTED"),
        ("withdrawn", "REQUESTED"),
        ("expired", "REQUESTED"),
        ("full consent", "REQUESTED"),
    ],
)
def test_request_consent(api, tokens, demo_services, situation, expected):
    cell = arrange(situation, api, tokens)

    response = api(
        REQUEST_CONSENT,
        cell.caller,
        fields=["profile.email"],
        purpose=PURPOSES[cell.service],
        redirectUri=REDIRECT_URIS[cell.service],
        hint=str(AINO.sub),
    )

    # the hint goes in; nothing about the citizen comes back, not even the hint
    assert_leaks_nothing(response)
    if expected != "REQUESTED":
        assert top_level_error(response, "requestConsent") == expected
        return
    payload = response["data"]["requestConsent"]
    assert payload["errors"] == []
    request = payload["request"]
    assert request["state"] == "REQUESTED" and request["citizenId"] is None
    assert request["id"] != cell.request_id


# Citizen-facing operations, against a service and no token (and another citizen)

CITIZEN_CALLERS = ["no token", "the consent's service", "another citizen"]


@dataclass(frozen=True)
class CitizenCell:
    caller: str | None
    consent_id: str
    pending_id: str


def arrange_citizen_facing(caller: str, api: Any, tokens: Any) -> CitizenCell:
    """Aino holds a full consent of demo-service and a pending request from it."""
    sync_aino(api, tokens)
    given = grant(api, tokens, service="demo-service", citizen="aino", fields=REGISTERED)
    pending = api(
        REQUEST_CONSENT,
        tokens.service("demo-service"),
        fields=["profile.phone"],
        purpose=PURPOSES["demo-service"],
        redirectUri=REDIRECT_URIS["demo-service"],
        hint=str(AINO.sub),
    )["data"]["requestConsent"]["request"]
    token = {
        "no token": None,
        "the consent's service": tokens.service("demo-service"),
        "another citizen": tokens.citizen("eero"),
    }[caller]
    return CitizenCell(caller=token, consent_id=given["consentId"], pending_id=pending["id"])


def assert_aino_unchanged(api: Any, tokens: Any, cell: CitizenCell) -> None:
    me = api(ME, tokens.citizen("aino"))["data"]["me"]
    assert [(c["id"], c["state"]) for c in me["consents"]] == [(cell.consent_id, "GIVEN")]
    assert [(r["id"], r["state"]) for r in me["consentRequests"]] == [
        (cell.pending_id, "REQUESTED")
    ]


DENIED = {"no token": "UNAUTHENTICATED", "the consent's service": "PERMISSION_DENIED"}


@pytest.mark.parametrize("caller", CITIZEN_CALLERS)
def test_me(api, tokens, demo_services, caller):
    cell = arrange_citizen_facing(caller, api, tokens)

    response = api(ME, cell.caller)

    assert_leaks_nothing(response)
    assert cell.consent_id not in json.dumps(response)
    if caller in DENIED:
        assert top_level_error(response, "me") == DENIED[caller]
    else:  # eero sees his own, empty, lists
        assert response["data"]["me"] == {
            "consents": [],
            "consentRequests": [],
            "accessLog": {"edges": []},
        }


@pytest.mark.parametrize("caller", CITIZEN_CALLERS)
def test_decide_consent_request(api, tokens, demo_services, caller):
    cell = arrange_citizen_facing(caller, api, tokens)

    response = api(DECIDE, cell.caller, id=cell.pending_id, approve=True)

    assert_leaks_nothing(response)
    if caller in DENIED:
        assert top_level_error(response, "decideConsentRequest") == DENIED[caller]
    else:
        payload = response["data"]["decideConsentRequest"]
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
        assert payload["request"] is None and payload["consentId"] is None
    assert_aino_unchanged(api, tokens, cell)


@pytest.mark.parametrize("caller", CITIZEN_CALLERS)
def test_withdraw_consent(api, tokens, demo_services, caller):
    cell = arrange_citizen_facing(caller, api, tokens)

    response = api(WITHDRAW, cell.caller, id=cell.consent_id)

    assert_leaks_nothing(response)
    if caller in DENIED:
        assert top_level_error(response, "withdrawConsent") == DENIED[caller]
    else:
        payload = response["data"]["withdrawConsent"]
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
        assert payload["withdrawnAt"] is None
    assert_aino_unchanged(api, tokens, cell)


@pytest.mark.parametrize("caller", CITIZEN_CALLERS)
def test_consent_receipt(api, tokens, demo_services, caller):
    cell = arrange_citizen_facing(caller, api, tokens)
    receipt = api(RECEIPT, tokens.citizen("aino"), id=cell.consent_id)["data"]["consentReceipt"]
    assert receipt.count(".") == 2  # aino herself gets the compact JWS

    response = api(RECEIPT, cell.caller, id=cell.consent_id)

    assert_leaks_nothing(response)
    assert receipt not in json.dumps(response)
    expected = DENIED.get(caller, "NOT_FOUND")
    assert top_level_error(response, "consentReceipt") == expected


# Tokens the wallet refuses, and tokens it must not mistake


SUSPENDED_CALLS = {
    "requestConsent": (
        REQUEST_CONSENT,
        {
            "fields": ["profile.email"],
            "purpose": PURPOSES["demo-service"],
            "redirectUri": REDIRECT_URIS["demo-service"],
        },
    ),
    "consentRequest": (CONSENT_REQUEST, {"id": "request"}),
    "citizenData": (CITIZEN_DATA, {"id": "citizen"}),
    "me": (ME, {}),
}


@pytest.mark.parametrize("operation", list(SUSPENDED_CALLS))
def test_suspended_service_token_is_refused(client, api, tokens, demo_services, operation):
    given = grant(api, tokens, service="demo-service", citizen="aino", fields=REGISTERED)
    Service.objects.filter(slug="demo-service").update(is_active=False)
    service_cache_clear()  # as the admin's save does
    query, variables = SUSPENDED_CALLS[operation]
    ids = {"request": given["id"], "citizen": given["citizenId"]}
    variables = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}

    response = client.post(
        "/graphql/",
        {"query": query, "variables": variables},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens.service('demo-service')}",
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert_leaks_nothing(body)


def test_service_token_is_never_a_citizen(api, tokens, demo_services):
    token = tokens.service("demo-service")
    subject = jwt.decode(token, options={"verify_signature": False})["sub"]
    citizens_before = Citizen.objects.count()

    for query, operation, variables in [
        (ME, "me", {}),
        (SYNC, "syncMyData", {}),
        (RECEIPT, "consentReceipt", {"id": str(uuid.uuid4())}),
        (WITHDRAW, "withdrawConsent", {"id": str(uuid.uuid4())}),
    ]:
        response = api(query, token, **variables)
        assert top_level_error(response, operation) == "PERMISSION_DENIED"

    assert not Citizen.objects.filter(subject=subject).exists()
    assert Citizen.objects.count() == citizens_before


# Expiry is enforced at read time, before any record of it


def test_expiry_is_enforced_before_it_is_recorded(api, tokens, demo_services):
    aino = tokens.citizen("aino")
    sync_aino(api, tokens)
    expires_at = (timezone.now() + timedelta(minutes=5)).isoformat()
    given = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=["profile.email"],
        expires_at=expires_at,
    )
    service = tokens.service("demo-service")
    before = api(CITIZEN_DATA, service, id=given["citizenId"])["data"]["citizenData"]
    assert before["grantedFields"] == ["profile.email"]

    # when time passes the expiry (the test ages the consent; nothing has recorded it yet)
    Consent.objects.filter(pk=given["consentId"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert list(
        ConsentStatus.objects.filter(consent_id=given["consentId"]).values_list("state", flat=True)
    ) == ["given"]

    # then the very next read gets nothing, and aino sees it expired
    response = api(CITIZEN_DATA, service, id=given["citizenId"])
    after = response["data"]["citizenData"]
    assert after["grantedFields"] == [] and after["records"] == []
    assert after["withheldFields"] == REGISTERED
    assert_leaks_nothing(response)
    [consent] = api(ME, aino)["data"]["me"]["consents"]
    assert consent["state"] == "EXPIRED"
    assert consent["history"] == [{"seq": 1, "state": "GIVEN", "actor": "citizen"}]

    # and the sweep records the expiry, once
    assert consents_expire() == 1
    assert consents_expire() == 0
    [consent] = api(ME, aino)["data"]["me"]["consents"]
    assert consent["state"] == "EXPIRED"
    assert consent["history"] == [
        {"seq": 1, "state": "GIVEN", "actor": "citizen"},
        {"seq": 2, "state": "EXPIRED", "actor": "system"},
    ]
    again = api(CITIZEN_DATA, service, id=given["citizenId"])["data"]["citizenData"]
    assert again["grantedFields"] == [] and again["records"] == []

    # an expired consent can no longer be withdrawn: it is not in force
    withdrawn = api(WITHDRAW, aino, id=given["consentId"])["data"]["withdrawConsent"]
    assert [e["code"] for e in withdrawn["errors"]] == ["CONFLICT"]


def test_a_consent_past_its_expiry_cannot_be_withdrawn(api, tokens, demo_services):
    """Expired is final, whether or not the sweep has recorded it yet: withdrawing answers the
    same CONFLICT before the sweep as after it, and the history keeps saying EXPIRED."""
    aino = tokens.citizen("aino")
    expires_at = (timezone.now() + timedelta(minutes=5)).isoformat()
    given = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=["profile.email"],
        expires_at=expires_at,
    )
    Consent.objects.filter(pk=given["consentId"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    withdrawn = api(WITHDRAW, aino, id=given["consentId"])["data"]["withdrawConsent"]

    assert [e["code"] for e in withdrawn["errors"]] == ["CONFLICT"]
    assert consents_expire() == 1
    [consent] = api(ME, aino)["data"]["me"]["consents"]
    assert consent["state"] == "EXPIRED"
    assert [h["state"] for h in consent["history"]] == ["GIVEN", "EXPIRED"]
