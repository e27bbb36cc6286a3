"""After a citizen erases their data, the services that had their consent learn that it was
withdrawn, over the API, with their own tokens: never a bare "not found"."""

from __future__ import annotations

import pytest

from consent.models import ConsentRequest, ErasedConsent
from sandbox.demo import SOFIA
from tests.consent.conftest import (
    CITIZEN_DATA,
    DECIDE,
    ask,
    grant,
)
from wallet.models import Citizen

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ERASE = "mutation { eraseMyData(confirm: true) { erased erasedAt errors { code } } }"

REQUEST_AFTER = """
query($id: String!) {
  consentRequest(id: $id) {
    id state citizenId consentId consentState citizenErasedAt decidedAt
    service { id } purpose { code }
  }
}"""


def test_demo_service_learns_that_its_consent_was_withdrawn(api, tokens, demo_services):
    # given sofia's consent to demo-service, read once; a refused request of demo-service-2;
    # and a request of demo-service-2 hinted to her, still waiting
    given = grant(api, tokens, service="demo-service", citizen="sofia", fields=["profile.email"])
    read = api(CITIZEN_DATA, tokens.service("demo-service"), id=given["citizenId"])
    assert read["data"]["citizenData"]["grantedFields"] == ["profile.email"]
    refused = ask(api, tokens, service="demo-service-2", fields=["profile.email"])
    api(DECIDE, tokens.citizen("sofia"), id=refused["id"], approve=False)
    waiting = ask(
        api, tokens, service="demo-service-2", fields=["profile.email"], hint=str(SOFIA.sub)
    )

    # when she erases her data
    erased = api(ERASE, tokens.citizen("sofia"))["data"]["eraseMyData"]
    assert erased["erased"] and erased["errors"] == []

    # then demo-service asking about its request learns the consent was withdrawn, and when
    after = api(REQUEST_AFTER, tokens.service("demo-service"), id=given["id"])
    outcome = after["data"]["consentRequest"]
    assert outcome["state"] == "GIVEN"
    assert outcome["consentState"] == "WITHDRAWN"
    assert outcome["consentId"] == given["consentId"]
    assert outcome["citizenErasedAt"] == erased["erasedAt"]
    assert outcome["citizenId"] is None  # the pairwise id is not kept
    assert outcome["service"] == {"id": "demo-service"}
    # reading with the pairwise id it had: a clear "withdrawn", not "no such citizen"
    refused_read = api(CITIZEN_DATA, tokens.service("demo-service"), id=given["citizenId"])
    assert refused_read["data"]["citizenData"] is None
    [error] = refused_read["errors"]
    assert error["extensions"]["code"] == "CONSENT_WITHDRAWN"
    assert "withdrawn" in error["message"]
    # demo-service-2: the refusal stands, the waiting request was withdrawn
    second = tokens.service("demo-service-2")
    assert api(REQUEST_AFTER, second, id=refused["id"])["data"]["consentRequest"]["state"] == (
        "REFUSED"
    )
    withdrawn = api(REQUEST_AFTER, second, id=waiting["id"])["data"]["consentRequest"]
    assert withdrawn["state"] == "WITHDRAWN" and withdrawn["citizenErasedAt"]
    # a service cannot see another's residue
    other = api(REQUEST_AFTER, second, id=given["id"])
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # what is left points to nobody
    assert not Citizen.objects.filter(subject=str(SOFIA.sub)).exists()
    for request in ConsentRequest.objects.all():
        assert request.citizen_id is None and request.citizen_hint_index == ""
    assert ErasedConsent.objects.get().state == "withdrawn"


def test_an_erased_citizens_request_is_nobody_elses_to_open(api, tokens, demo_services):
    given = grant(api, tokens, service="demo-service", citizen="sofia", fields=["profile.email"])
    api(ERASE, tokens.citizen("sofia"))

    # another citizen with the request's id (the capability its URL carries) finds nothing
    opened = api(
        "query($id: String!) { consentRequest(id: $id) { id state } }",
        tokens.citizen("aino"),
        id=given["id"],
    )
    assert opened["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    decided = api(DECIDE, tokens.citizen("aino"), id=given["id"], approve=True)
    assert decided["data"]["decideConsentRequest"]["errors"][0]["code"] == "NOT_FOUND"
