"""The consent flow end to end, with real tokens from the sandbox provider: a service asks, the
citizen approves, the service reads exactly what was granted, the citizen sees the read and
withdraws, and the next read gets nothing personal."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from consent.models import ConsentStatus
from sandbox.demo import AINO
from tests.consent.conftest import (
    ACCESS_LOG,
    CITIZEN_DATA,
    CONSENT_REQUEST,
    DECIDE,
    REDIRECT_URIS,
    REQUEST_CONSENT,
    WITHDRAW,
    ask,
    grant,
)

pytestmark = pytest.mark.django_db(databases="__all__")

SYNC = "mutation { syncMyData { sources { source status } errors { code } } }"
PENDING = "{ me { consentRequests { id state service { id } fields { id } } } }"


def test_done_when_request_approve_read_log_withdraw(api, tokens, demo_services):
    # given aino's wallet holds her youth card (synced from the youth simulator)
    aino = tokens.citizen("aino")
    synced = api(SYNC, aino)["data"]["syncMyData"]
    assert {"source": "youth", "status": "SUCCEEDED"} in synced["sources"]

    # when demo-service asks for two fields and aino approves
    request = ask(
        api,
        tokens,
        service="demo-service",
        fields=["profile.email", "youth.membership.status"],
        hint=str(AINO.sub),
    )  # asserts the payload has no errors
    assert request["state"] == "REQUESTED" and request["citizenId"] is None
    assert request["approvalUrl"].endswith(f"/consent/{request['id']}/")
    assert len(request["id"]) >= 40  # 32 random bytes

    pending = api(PENDING, aino)["data"]["me"]["consentRequests"]
    assert [p["id"] for p in pending] == [request["id"]]
    assert [f["id"] for f in pending[0]["fields"]] == ["profile.email", "youth.membership.status"]

    decided = api(DECIDE, aino, id=request["id"], approve=True)["data"]["decideConsentRequest"]
    assert decided["errors"] == []
    redirect = urlsplit(decided["redirectUrl"])
    assert decided["redirectUrl"].startswith(REDIRECT_URIS["demo-service"])
    assert parse_qs(redirect.query) == {"consent_request": [request["id"]], "state": ["given"]}
    assert api(PENDING, aino)["data"]["me"]["consentRequests"] == []

    outcome = api(CONSENT_REQUEST, tokens.service("demo-service"), id=request["id"])
    outcome = outcome["data"]["consentRequest"]
    assert outcome["state"] == "GIVEN" and outcome["consentId"] == decided["consentId"]
    pairwise = outcome["citizenId"]
    assert pairwise and pairwise != str(AINO.sub)

    # then the service reads exactly those two fields
    read = api(CITIZEN_DATA, tokens.service("demo-service"), id=pairwise)["data"]["citizenData"]
    values = {v["fieldId"]: v["value"] for r in read["records"] for v in r["values"]}
    assert values == {"profile.email": AINO.email, "youth.membership.status": "ACTIVE"}
    assert read["grantedFields"] == ["profile.email", "youth.membership.status"]
    assert "youth.membership.birth_date" in read["withheldFields"]
    assert "profile.first_name" in read["withheldFields"]

    # and aino's access log shows the read
    log = api(ACCESS_LOG, aino, first=10)["data"]["me"]["accessLog"]
    [entry] = [edge["node"] for edge in log["edges"]]
    assert entry["service"] == {"id": "demo-service", "name": "Youth centre bookings"}
    assert entry["fields"] == ["profile.email", "youth.membership.status"]
    assert entry["requestId"] == read["requestId"]
    assert entry["purposes"] == ["membership-check"]
    assert entry["consentId"] == decided["consentId"]

    # when aino withdraws, the very next read returns nothing personal
    withdrawn = api(WITHDRAW, aino, id=decided["consentId"])["data"]["withdrawConsent"]
    assert withdrawn["errors"] == [] and withdrawn["withdrawnAt"]
    after = api(CITIZEN_DATA, tokens.service("demo-service"), id=pairwise)["data"]["citizenData"]
    assert after["records"] == [] and after["grantedFields"] == []
    assert "profile.email" in after["withheldFields"]
    assert "virtanen" not in str(after).lower()

    # the service can tell the consent is no longer in force
    state = api(
        "query($id: String!) { consentRequest(id: $id) { state consentState } }",
        tokens.service("demo-service"),
        id=request["id"],
    )["data"]["consentRequest"]
    assert state == {"state": "GIVEN", "consentState": "WITHDRAWN"}

    # and that attempt is logged too, with nothing shared
    log = api(ACCESS_LOG, aino, first=10)["data"]["me"]["accessLog"]
    newest = log["edges"][0]["node"]
    assert newest["fields"] == [] and newest["consentId"] is None
    assert len(log["edges"]) == 2


def test_unhinted_request_belongs_to_the_first_citizen_who_opens_it(api, tokens, demo_services):
    asked = ask(api, tokens, service="demo-service", fields=["profile.email"])

    opened = api(CONSENT_REQUEST, tokens.citizen("eero"), id=asked["id"])["data"]
    assert opened["consentRequest"]["state"] == "REQUESTED"

    # now it is eero's: aino can neither see nor decide it
    by_aino = api(CONSENT_REQUEST, tokens.citizen("aino"), id=asked["id"])
    assert by_aino["data"]["consentRequest"] is None
    assert by_aino["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    decided = api(DECIDE, tokens.citizen("aino"), id=asked["id"], approve=True)
    assert decided["data"]["decideConsentRequest"]["errors"][0]["code"] == "NOT_FOUND"

    eero_pending = api(PENDING, tokens.citizen("eero"))["data"]["me"]["consentRequests"]
    assert [p["id"] for p in eero_pending] == [asked["id"]]


def test_hinted_request_is_invisible_to_other_citizens(api, tokens, demo_services):
    asked = ask(api, tokens, service="demo-service", fields=["profile.email"], hint=str(AINO.sub))

    assert api(PENDING, tokens.citizen("eero"))["data"]["me"]["consentRequests"] == []
    by_eero = api(DECIDE, tokens.citizen("eero"), id=asked["id"], approve=True)
    assert by_eero["data"]["decideConsentRequest"]["errors"][0]["code"] == "NOT_FOUND"


def test_refusal_gives_nothing_and_is_final(api, tokens, demo_services):
    asked = ask(api, tokens, service="demo-service", fields=["profile.email"])
    aino = tokens.citizen("aino")

    refused = api(DECIDE, aino, id=asked["id"], approve=False)["data"]["decideConsentRequest"]
    assert refused["errors"] == [] and refused["consentId"] is None
    assert "state=refused" in refused["redirectUrl"]
    again = api(DECIDE, aino, id=asked["id"], approve=True)["data"]["decideConsentRequest"]
    assert again["errors"][0]["code"] == "CONFLICT"

    outcome = api(CONSENT_REQUEST, tokens.service("demo-service"), id=asked["id"])
    assert outcome["data"]["consentRequest"]["state"] == "REFUSED"
    assert outcome["data"]["consentRequest"]["citizenId"] is None
    assert api("{ me { consents { id } } }", aino)["data"]["me"]["consents"] == []


@pytest.mark.parametrize(
    ("arguments", "field", "code"),
    [
        ({"fields": ["berths.lease.harbor"]}, "fields", "PERMISSION_DENIED"),  # not registered
        ({"fields": ["profile.shoe_size"]}, "fields", "INVALID"),  # not in the catalogue
        ({"fields": []}, "fields", "INVALID"),
        ({"purpose": "marketing"}, "purpose", "INVALID"),
        ({"redirectUri": "https://evil.example/steal"}, "redirectUri", "INVALID"),
        ({"expiresAt": "2020-01-01T00:00:00+00:00"}, "expiresAt", "INVALID"),
        ({"expiresAt": "2099-01-01T00:00:00+00:00"}, "expiresAt", "INVALID"),  # too long
    ],
)
def test_requests_outside_the_registration_are_refused(
    api, tokens, demo_services, arguments, field, code
):
    variables = {
        "fields": ["profile.email"],
        "purpose": "membership-check",
        "redirectUri": REDIRECT_URIS["demo-service"],
        **arguments,
    }
    result = api(REQUEST_CONSENT, tokens.service("demo-service"), **variables)
    payload = result["data"]["requestConsent"]
    assert payload["request"] is None
    assert payload["errors"][0]["field"] == field and payload["errors"][0]["code"] == code


def test_sensitive_fields_need_substantial_assurance_at_grant(api, tokens, demo_services):
    # sofia's login is of low assurance; birth date is a sensitive field
    asked = ask(
        api,
        tokens,
        service="demo-service",
        fields=["profile.email", "youth.membership.birth_date"],
    )
    sofia = tokens.citizen("sofia")
    denied = api(DECIDE, sofia, id=asked["id"], approve=True)["data"]["decideConsentRequest"]
    assert denied["errors"][0]["code"] == "INSUFFICIENT_ASSURANCE"
    assert api("{ me { consents { id } } }", sofia)["data"]["me"]["consents"] == []

    # aino (substantial) may grant it
    granted = grant(
        api,
        tokens,
        service="demo-service",
        citizen="aino",
        fields=["profile.email", "youth.membership.birth_date"],
    )
    assert granted["state"] == "GIVEN"


def test_pairwise_ids_differ_between_services_and_do_not_cross(api, tokens, demo_services):
    first = grant(api, tokens, service="demo-service", citizen="eero", fields=["profile.email"])
    second = grant(api, tokens, service="demo-service-2", citizen="eero", fields=["profile.email"])
    assert first["citizenId"] != second["citizenId"]

    # a second consent to the same service keeps the same pairwise id
    again = grant(api, tokens, service="demo-service", citizen="eero", fields=["profile.phone"])
    assert again["citizenId"] == first["citizenId"]

    # demo-service-2 cannot use demo-service's id for eero
    crossed = api(CITIZEN_DATA, tokens.service("demo-service-2"), id=first["citizenId"])
    assert crossed["data"]["citizenData"] is None
    assert crossed["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_consents_list_shows_history_and_state(api, tokens, demo_services):
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=["profile.email"])
    aino = tokens.citizen("aino")
    api(WITHDRAW, aino, id=granted["consentId"])

    query = """{ me { consents { id state service { id name { fi en } } fields { id label { en } }
                 purpose { code category } serviceCitizenId history { seq state actor } } } }"""
    [consent] = api(query, aino)["data"]["me"]["consents"]
    assert consent["id"] == granted["consentId"] and consent["state"] == "WITHDRAWN"
    assert consent["serviceCitizenId"] == granted["citizenId"]
    assert consent["fields"] == [{"id": "profile.email", "label": {"en": "Email"}}]
    assert consent["purpose"] == {"code": "membership-check", "category": "Core Function"}
    assert consent["history"] == [
        {"seq": 1, "state": "GIVEN", "actor": "citizen"},
        {"seq": 2, "state": "WITHDRAWN", "actor": "citizen"},
    ]
    twice = api(WITHDRAW, aino, id=granted["consentId"])["data"]["withdrawConsent"]
    assert twice["errors"][0]["code"] == "CONFLICT"


def test_consent_with_no_status_records_is_not_given_to_anyone(api, tokens, demo_services):
    # given a consent whose status records are then deleted in the database
    granted = grant(api, tokens, service="demo-service", citizen="aino", fields=["profile.email"])
    ConsentStatus.objects.filter(consent_id=granted["consentId"]).delete()

    # the service gets nothing under it
    service = tokens.service("demo-service")
    read = api(CITIZEN_DATA, service, id=granted["citizenId"])["data"]["citizenData"]
    assert read["records"] == [] and read["grantedFields"] == []
    assert "profile.email" in read["withheldFields"]
    query = "query($id: String!) { consentRequest(id: $id) { consentState } }"
    state = api(query, service, id=granted["id"])["data"]["consentRequest"]
    assert state == {"consentState": "UNKNOWN"}

    # aino does not see it as given, and there is nothing to withdraw
    aino = tokens.citizen("aino")
    [consent] = api("{ me { consents { id state history { seq } } } }", aino)["data"]["me"][
        "consents"
    ]
    assert consent == {"id": granted["consentId"], "state": "UNKNOWN", "history": []}
    withdrawn = api(WITHDRAW, aino, id=granted["consentId"])["data"]["withdrawConsent"]
    assert withdrawn["errors"][0]["code"] == "CONFLICT"


def test_read_under_two_consents_is_logged_under_both(api, tokens, demo_services):
    # given two consents of aino's to one service, covering different fields
    email = grant(api, tokens, service="demo-service", citizen="aino", fields=["profile.email"])
    status = grant(
        api, tokens, service="demo-service", citizen="aino", fields=["youth.membership.status"]
    )
    assert email["citizenId"] == status["citizenId"]

    # when the service reads both fields in one read
    fields = ["profile.email", "youth.membership.status"]
    service = tokens.service("demo-service")
    read = api(CITIZEN_DATA, service, id=email["citizenId"], fields=fields)
    assert read["data"]["citizenData"]["grantedFields"] == fields

    # then aino's log names both consents, the first also as consentId
    query = "{ me { accessLog(first: 1) { edges { node { fields consentId consentIds } } } } }"
    [edge] = api(query, tokens.citizen("aino"))["data"]["me"]["accessLog"]["edges"]
    assert edge["node"] == {
        "fields": fields,
        "consentId": email["consentId"],
        "consentIds": [email["consentId"], status["consentId"]],
    }
    # and the log's chain still verifies
    call_command("verify_access_log")
